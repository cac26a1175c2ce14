/**
 * `contain account --quarantine`: every principal of a member account except the forensic roles is denied everything,
 * by a statement in the case's quarantine SCP attached to the account. What stays possible: the forensic roles
 * (capture, containment, investigation), service-linked roles (SCPs never restrict them), and principals of other
 * accounts reaching into this one (their own account's policies and this account's resource policies decide; RCPs
 * are the organisation-level control for that). The management account cannot be quarantined (SCPs never apply there),
 * nor the forensic account (the landing zone's own).
 */
import { UsageError } from "../errors";
import { partitionOf, type ContainContext, type ContainResult } from "./common";
import { putQuarantineStatements } from "./principal-apply";
import { accountQuarantineStatement } from "./principal-statements";

/** Ledger action of an account quarantine. */
export const ACCOUNT_ACTION = "contain.account.quarantined";

/** Target key of an account quarantine. */
export const accountQuarantineTarget = (account: string): string => `quarantine:account:${account}`;

/** Arguments of {@link quarantineAccount}. */
export interface QuarantineAccountArgs {
  /** Role names left free in the account: the member responder and investigator roles. */
  readonly forensicRoles: readonly string[];
  /** The forensic account (refused). */
  readonly forensicAccountId: string;
}

/** Quarantines `ctx.account` (see the module comment). */
export async function quarantineAccount(ctx: ContainContext, args: QuarantineAccountArgs): Promise<ContainResult> {
  if (ctx.account === args.forensicAccountId) {
    throw new UsageError(
      `account ${ctx.account} is the forensic account: quarantining it would stop the landing zone's own responders and custody; contain principals in it instead`,
    );
  }
  const exempt = args.forensicRoles.map((name) => `arn:${partitionOf(ctx.region)}:iam::${ctx.account}:role/${name}`);
  return putQuarantineStatements(ctx, {
    action: ACCOUNT_ACTION,
    subjects: [ctx.account],
    targets: [accountQuarantineTarget(ctx.account)],
    account: ctx.account,
    statements: [
      accountQuarantineStatement({
        caseId: ctx.ledger.caseId,
        account: ctx.account,
        partition: partitionOf(ctx.region),
        exemptRoles: args.forensicRoles,
      }),
    ],
    descriptions: [
      `quarantine account ${ctx.account}: deny every action to every principal of it except ${exempt.join(", ")}`,
    ],
    details: { exempt },
  });
}
