/**
 * `contain principal --quarantine`: every request of one IAM role or user is denied at the organisation level, whatever
 * its credentials (sessions issued before or after, long-term keys), by a statement in the case's quarantine SCP
 * attached to the principal's account. A member-account administrator cannot lift it; `contain undo` can.
 */
import { GetRoleCommand, GetUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { UsageError } from "../errors";
import { awsErrorName, type ContainContext, type ContainResult } from "./common";
import { putQuarantineStatements } from "./principal-apply";
import { parsePrincipalArn, principalQuarantineStatement, type PrincipalRef } from "./principal-statements";
import { isServiceLinkedPath } from "./sessions";

/** Ledger action of a principal quarantine. */
export const PRINCIPAL_ACTION = "contain.principal.quarantined";

/** Target key of a principal's full quarantine. */
export const principalQuarantineTarget = (arn: string): string => `quarantine:principal-all:${arn}`;

/**
 * Checks the principal before anything is recorded: it exists (a typo would quarantine nobody), it is not
 * service-linked (SCPs do not restrict it), and it is not one of the forensic roles (responders would lock themselves
 * out). Reads with the member responder role of the principal's account.
 */
export async function checkPrincipal(
  ctx: ContainContext,
  principal: PrincipalRef,
  forensicRoles: readonly string[],
): Promise<void> {
  if (principal.type === "role" && forensicRoles.includes(principal.name)) {
    throw new UsageError(
      `${principal.arn} is a forensic role of the landing zone: quarantining it would stop the responders themselves`,
    );
  }
  const iam = ctx.factory.client(IAMClient, { account: principal.account, region: ctx.region });
  try {
    if (principal.type === "role") {
      const role = await iam.send(new GetRoleCommand({ RoleName: principal.name }));
      if (isServiceLinkedPath(role.Role?.Path)) {
        throw new UsageError(
          `${principal.arn} is a service-linked role: service control policies do not restrict it; contain the principals that use the service instead`,
        );
      }
      if (role.Role?.Arn && role.Role.Arn !== principal.arn) {
        throw new UsageError(`${principal.arn} is not the role's ARN: give ${role.Role.Arn} (with its path)`);
      }
    } else {
      const user = await iam.send(new GetUserCommand({ UserName: principal.name }));
      if (user.User?.Arn && user.User.Arn !== principal.arn) {
        throw new UsageError(`${principal.arn} is not the user's ARN: give ${user.User.Arn} (with its path)`);
      }
    }
  } catch (err) {
    const name = awsErrorName(err);
    if (name === "NoSuchEntityException" || name === "NoSuchEntity") {
      throw new UsageError(
        `${principal.type} ${principal.name} does not exist in account ${principal.account}: give the ARN of an existing IAM ${principal.type}`,
      );
    }
    throw err;
  }
}

/** Arguments of {@link quarantinePrincipal}. */
export interface QuarantinePrincipalArgs {
  /** `--principal`: role or user ARN. */
  readonly principal: string;
  /** Role names never quarantined: the member responder and investigator roles. */
  readonly forensicRoles: readonly string[];
}

/** Quarantines the principal (see the module comment). */
export async function quarantinePrincipal(ctx: ContainContext, args: QuarantinePrincipalArgs): Promise<ContainResult> {
  const principal = parsePrincipalArn(args.principal);
  if (ctx.account !== "" && ctx.account !== principal.account) {
    throw new UsageError(
      `--account ${ctx.account} is not the account of ${principal.arn} (${principal.account}): drop --account or give ${principal.account}`,
    );
  }
  const placed = { ...ctx, account: principal.account };
  await checkPrincipal(placed, principal, args.forensicRoles);
  return putQuarantineStatements(placed, {
    action: PRINCIPAL_ACTION,
    subjects: [principal.arn],
    targets: [principalQuarantineTarget(principal.arn)],
    account: principal.account,
    statements: [principalQuarantineStatement(ctx.ledger.caseId, principal)],
    descriptions: [
      `quarantine ${principal.arn}: deny every action to it, whatever its credentials (sessions old and new, access keys)`,
    ],
    details: { principalArn: principal.arn },
  });
}
