/**
 * The seeded organisation's fixed names (accounts, regions, roles) and what {@link seedAssessWorld} returns, shared by
 * the seeding (fixtures.ts, fixtures-members.ts) and the emulator gaps (fixtures-mocks.ts).
 */
import type { LandingZone } from "../../../scripts/contract";
import { SEED_ROLE_NAMES } from "../../../scripts/emulator/seed";

/** The management account (creates the organisation). */
export const MANAGEMENT = "111111111111";
/** Regions of the seeded landing zone, all assessed. */
export const REGIONS = ["us-east-1", "eu-west-1"];
/** The read-only role the assessment uses in the management account. */
export const MANAGEMENT_ROLE = `arn:aws:iam::${MANAGEMENT}:role/FlzAssessReadOnly`;
/** The role the guardrails of the ready world exempt: the deployment's, in every account. */
export const DEPLOYMENT_ROLE = "arn:aws:iam::*:role/OrganizationAccountAccessRole";
/** Role names, as the stack's defaults (the emulator seed's). */
export const ROLES = SEED_ROLE_NAMES;
/** The stock image the emulator offers for instances. */
export const AMI = "ami-12c6146b";

/** What was seeded, with the IDs the register names. */
export interface AssessWorld {
  readonly lz: LandingZone;
  readonly forensic: string;
  readonly gappy: string;
  readonly clean: string;
  readonly locked: string;
  readonly ready: boolean;
  /** Per `account|region`: the VPC IDs seeded there (default VPC first). */
  readonly vpcs: Record<string, string[]>;
  /** Per account: the instance launched in us-east-1 and its launch template. */
  readonly instances: Record<string, { instanceId: string; volumeIds: string[]; templateId: string }>;
  /** Per `account|region`: the customer key of its volumes (and, in the clean account, the EBS default key). */
  readonly volumeKeys: Record<string, string>;
  /** The gappy account's log group kept too briefly. */
  readonly shortLogGroup: string;
}

/** A policy document as the APIs take it. */
export const json = (doc: unknown) => JSON.stringify(doc);
