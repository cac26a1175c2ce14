/**
 * What an execution costs before its target is contained (issue 15's benchmark: 16 executions at once spend their
 * first seconds on exactly these requests, so each one added on this path is paid 16 times in the burst). Counted per
 * function from the calls the authorization oracle records (every call of the run, each evaluated): counts, never
 * timings. The intake and the contain function are everything that runs before "contained" (with the kill switch read
 * and the rate slot claimed by the state machine itself).
 */
import { expect } from "chai";
import { executionNameOf, incidentOf } from "../../scripts/automation/incident";
import { guardDutyInstanceFinding, localAutomation } from "../../scripts/automation/local-engine";
import type { CallIdentity } from "../../scripts/aws/observer";
import { problemsOf } from "../../scripts/oracle";
import { seedLandingZone, SEED_ACCOUNTS } from "../../scripts/emulator/seed";
import { useEmulator } from "../support/emulator";
import { takeRecords } from "../support/oracle/hooks";
import { launchInstance } from "../scripts/capture/fixtures";

const MEMBER = SEED_ACCOUNTS.members[0];
const REGION = "eu-west-1";

/** The automation function whose role a call's chain of sessions starts from, if any. */
function functionOf(identity: CallIdentity): string | undefined {
  let id = identity;
  while (id.kind === "role" && id.assumedBy.kind === "role") id = id.assumedBy;
  return id.kind === "role" ? /role\/flz-automation-(\w+)$/.exec(id.roleArn)?.[1] : undefined;
}

describe("response automation: requests before containment", function () {
  this.timeout(180000);
  useEmulator();

  it("the intake and the containment of one instance stay within their request budget (custody claims, listings, reads)", async () => {
    const lz = await seedLandingZone();
    const instance = await launchInstance(MEMBER, REGION, 1);
    const finding = guardDutyInstanceFinding({
      account: MEMBER,
      region: REGION,
      instanceId: instance.instanceId,
      adminAccount: SEED_ACCOUNTS.forensic,
    });
    const name = executionNameOf(incidentOf(finding, SEED_ACCOUNTS.forensic));
    await takeRecords(); // the set-up's calls are not the execution's
    const auto = await localAutomation(lz, { modes: { "UnauthorizedAccess:EC2/*": "contain" } }, { hashMaxGiB: 0 });
    try {
      const run = await auto.run(finding, name);
      expect(run.states).to.include("Contain");
      const calls = await takeRecords();
      expect(problemsOf(calls)).to.deep.equal([]);
      const count = (fn: string, what?: (c: (typeof calls)[number]["call"]) => boolean) =>
        calls.filter((r) => functionOf(r.call.identity) === fn && (what?.(r.call) ?? true)).length;
      const op = (operation: string) => (c: { operation: string }) => c.operation === operation;
      const journalClaim = (c: { operation: string; input: Readonly<Record<string, unknown>> }) =>
        c.operation === "PutObject" && /\/custody-journal\//.test(String(c.input.Key));
      const measured = {
        intake: count("intake"),
        contain: count("contain"),
        // Record 0 and the intake's decision are one batch: one claim, one listing (the writer opens the case from
        // the listing the intake's read made).
        intakeClaims: count("intake", journalClaim),
        intakeListings: count("intake", op("ListObjectVersions")),
        // The intent before the change and the completion after it (write-ahead intent, PLAN decision 5): two
        // claims; the chain read before the intent, and the completion's re-read of intents written meanwhile.
        containClaims: count("contain", journalClaim),
        containListings: count("contain", op("ListObjectVersions")),
        // One signature per record, signed by its own writer (PLAN decision 2): case.opened, the decision, the
        // intent, the completion.
        signs: count("intake", op("Sign")) + count("contain", op("Sign")),
        callerIdentity: count("intake", op("GetCallerIdentity")) + count("contain", op("GetCallerIdentity")),
        publicKey: count("intake", op("GetPublicKey")) + count("contain", op("GetPublicKey")),
      };
      expect(measured, JSON.stringify(measured)).to.deep.include({
        intakeClaims: 1,
        intakeListings: 1,
        containClaims: 2,
        containListings: 2,
        signs: 4,
        callerIdentity: 2,
        publicKey: 2,
      });
      // The whole path: 17 + 42 requests measured when this bound was set (63 before the batching and the shared
      // listing); a little room for the containment's own reads, none for another custody round.
      expect(measured.intake + measured.contain, JSON.stringify(measured)).to.be.at.most(60);
    } finally {
      auto.close();
    }
  });
});
