/**
 * The check catalogue of `flz assess`: every check's ID, what must be true, its incident impact, the NIST SP 800-61
 * phase and AWS Well-Architected practice it serves, what it reads and how to close it. A table, not code: the
 * decisions live in `checks/`, the reads in `collect/`. docs/assess.md explains each entry at length. The entries
 * are kept in two parts by where they are read: once per organisation, and in every account and region.
 */
import { ACCOUNT_CHECKS } from "./catalog-accounts";
import { ORGANIZATION_CHECKS } from "./catalog-organization";
import type { CheckDefinition } from "./types";

/** Every check, in the order the register lists equal-ranked gaps. */
export const CHECKS: readonly CheckDefinition[] = [...ORGANIZATION_CHECKS, ...ACCOUNT_CHECKS];

/** The catalogue by ID. */
export const CHECKS_BY_ID: ReadonlyMap<string, CheckDefinition> = new Map(CHECKS.map((c) => [c.id, c]));

/** A check's definition; throws for an unknown ID (a programming error: every finding names a catalogued check). */
export function checkDefinition(id: string): CheckDefinition {
  const check = CHECKS_BY_ID.get(id);
  if (!check) throw new Error(`unknown check ${id}`);
  return check;
}
