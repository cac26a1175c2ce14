/**
 * Reads in one member account, as the member investigator (read-only): who the session is (proof the role was
 * actually assumed) and the member responder role.
 */
import { IAMClient } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
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
  // waiting for the identity first would only add a round trip.
  const [identity, responderRole] = await Promise.all([
    factory.client(STSClient, { account, region }).send(new GetCallerIdentityCommand({})),
    role(factory.client(IAMClient, { account, region }), responderRoleName),
  ]);
  return { identity: { ok: true, value: identity.Arn ?? "" }, responderRole };
}
