/**
 * Reads in one member account, as the member investigator (read-only): who the session is (proof the role was
 * actually assumed: the ARN STS gave the session when it was assumed, what GetCallerIdentity would answer) and the
 * member responder role.
 */
import { IAMClient } from "@aws-sdk/client-iam";
import type { ClientFactory } from "../../aws/clients";
import type { AccountFacts } from "../facts";
import { role } from "./forensic";

/**
 * Reads one account. Throws when the member investigator role cannot be assumed: the whole account is then
 * unreadable, for that reason.
 *
 * @param factory clients that reach member accounts through the member investigator role.
 * @param account the account.
 * @param region any enabled region (IAM and STS are answered there).
 * @param responderRoleName the member responder role's name.
 */
export async function collectAccount(
  factory: ClientFactory,
  account: string,
  region: string,
  responderRoleName: string,
): Promise<AccountFacts> {
  // Both at once: they share the account's one session, and the role read never fails the unit (it is a Read), so
  // waiting for the session first would only add a round trip. The session's ARN comes from the AssumeRole answer the
  // session was opened with: a GetCallerIdentity per account would ask STS again what it has just said.
  const [identity, responderRole] = await Promise.all([
    factory.memberSessionArn(account),
    role(factory.client(IAMClient, { account, region }), responderRoleName),
  ]);
  return { identity: { ok: true, value: identity }, responderRole };
}
