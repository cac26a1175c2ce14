/**
 * `contain technique`: technique and access containment (AWS: "limiting the functions and IAM principals with access
 * to the resource"): one principal is denied specific actions, on every resource or the given ones, whatever its
 * credentials, by a statement in the case's quarantine SCP attached to the principal's account. Everything else the
 * principal does keeps working, so a workload can stay up while the technique an intruder used through it is cut.
 */
import { createHash } from "node:crypto";
import { UsageError } from "../errors";
import type { ContainContext, ContainResult } from "./common";
import { checkPrincipal } from "./principal";
import { putQuarantineStatements } from "./principal-apply";
import { parseActions, parsePrincipalArn, parseResources, techniqueStatement } from "./principal-statements";

/** Ledger action of a technique containment. */
export const TECHNIQUE_ACTION = "contain.technique.denied";

/** Arguments of {@link containTechnique}. */
export interface ContainTechniqueArgs {
  /** `--principal`: role or user ARN. */
  readonly principal: string;
  /** `--deny`: comma-separated actions. */
  readonly deny: string | undefined;
  /** `--resource`: comma-separated ARNs (default every resource). */
  readonly resource?: string;
  /** Role names never contained: the member responder and investigator roles. */
  readonly forensicRoles: readonly string[];
}

/** Denies the actions to the principal (see the module comment). */
export async function containTechnique(ctx: ContainContext, args: ContainTechniqueArgs): Promise<ContainResult> {
  const principal = parsePrincipalArn(args.principal);
  const actions = parseActions(args.deny);
  const resources = parseResources(args.resource);
  if (ctx.account !== "" && ctx.account !== principal.account) {
    throw new UsageError(
      `--account ${ctx.account} is not the account of ${principal.arn} (${principal.account}): drop --account or give ${principal.account}`,
    );
  }
  const placed = { ...ctx, account: principal.account };
  await checkPrincipal(placed, principal, args.forensicRoles);
  const statement = techniqueStatement({ caseId: ctx.ledger.caseId, principal, actions, resources });
  const key = createHash("sha256")
    .update(`${actions.join(",")}\n${resources.join(",")}`)
    .digest("hex")
    .slice(0, 16);
  return putQuarantineStatements(placed, {
    action: TECHNIQUE_ACTION,
    subjects: [principal.arn],
    targets: [`quarantine:technique:${principal.arn}:${key}`],
    account: principal.account,
    statements: [statement],
    descriptions: [
      `deny ${actions.join(", ")} to ${principal.arn} on ${resources.join(", ")}, whatever its credentials`,
    ],
    details: { principalArn: principal.arn, actions, resources },
  });
}
