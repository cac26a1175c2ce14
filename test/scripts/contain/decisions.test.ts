import { expect } from "chai";
import { requireCaseId } from "../../../scripts/contain/common";
import {
  decideAutoScaling,
  decideGroup,
  planInstance,
  type InstanceSnapshot,
} from "../../../scripts/contain/instance-plan";
import { isServiceLinkedPath, parseCutoff } from "../../../scripts/contain/sessions";
import { decideQuarantine, quarantineDetails, type QuarantineState } from "../../../scripts/contain/quarantine";
import { decideUndo, parseSequence } from "../../../scripts/contain/undo";
import type { CustodyRecord } from "../../../scripts/custody/types";
import { UsageError } from "../../../scripts/errors";

const NOW = new Date("2026-03-02T12:00:00.250Z");
const rec = (sequence: number, action: string, extra: Partial<CustodyRecord> = {}): CustodyRecord =>
  ({
    version: 1,
    sequence,
    case: "IR-1",
    time: "",
    actor: "",
    action,
    subjects: ["x"],
    previousHash: "",
    hash: "",
    signature: { keyArn: "", algorithm: "ECDSA_SHA_256", value: "" },
    ...extra,
  }) as CustodyRecord;
/** An organisation in which the case has no quarantine policy yet and the account has FullAWSAccess only. */
const EMPTY_ORG: QuarantineState = {
  organizationId: "o-exampleorg1",
  managementAccountId: "111111111111",
  found: [],
  otherAttached: [{ id: "p-FullAWSAccess", name: "FullAWSAccess" }],
};

describe("containment decisions", () => {
  describe("session cutoff", () => {
    it("reads now and ISO times with a zone, at IAM's second precision", () => {
      expect(parseCutoff("now", NOW)).to.equal("2026-03-02T12:00:00Z");
      expect(parseCutoff("2026-03-01T14:30:00+01:00", NOW)).to.equal("2026-03-01T13:30:00Z");
      expect(parseCutoff("2026-03-02T12:03:00Z", NOW)).to.equal("2026-03-02T12:03:00Z"); // clock skew tolerated
    });
    for (const bad of ["", "yesterday", "2026-03-01", "2026-03-01T14:30:00", "2026-13-01T00:00:00Z", "1709300000"]) {
      it(`refuses ${JSON.stringify(bad)}`, () =>
        expect(() => parseCutoff(bad, NOW)).to.throw(UsageError, /is not a time/));
    }
    it("refuses a cutoff in the future, which would also lock out sessions issued after containment", () => {
      expect(() => parseCutoff("2027-03-02T12:00:00Z", NOW)).to.throw(UsageError, /is in the future/);
    });
    it("moves a cutoff later but never earlier (the ledger's statement is the reference)", () => {
      const subject = { kind: "principal" as const, principalArn: "arn:aws:iam::333333333333:role/app" };
      const put = (cutoff: string, records: CustodyRecord[] = []) =>
        decideQuarantine(EMPTY_ORG, { caseId: "IR-1", account: "333333333333", records, put: [{ subject, cutoff }] });
      const first = put("2026-03-01T10:00:00Z");
      expect(first.decisions.map((d) => d.kind)).to.deep.equal(["put"]);
      const recorded = [rec(1, "contain.sessions.revoked", { details: { quarantine: quarantineDetails(first) } })];
      expect(put("2026-03-01T11:00:00Z", recorded).decisions[0]).to.include({ kind: "put" });
      expect(put("2026-03-01T09:00:00Z", recorded).decisions[0]).to.include({ kind: "keep" });
      expect(put("2026-03-01T10:00:00Z", recorded).decisions[0]).to.include({ kind: "keep" });
    });
    it("recognises service-linked roles by their path", () => {
      expect(isServiceLinkedPath("/aws-service-role/autoscaling.amazonaws.com/")).to.equal(true);
      expect(isServiceLinkedPath("/")).to.equal(false);
      expect(isServiceLinkedPath("/service-role/")).to.equal(false);
    });
  });

  describe("Auto Scaling", () => {
    const asg = (lifecycleState: string, minSize: number, desiredCapacity: number) => ({
      group: "web",
      lifecycleState,
      minSize,
      desiredCapacity,
    });
    it("uses Standby while the group stays at or above its minimum", () =>
      expect(decideAutoScaling(asg("InService", 1, 2)).kind).to.equal("standby"));
    it("detaches when Standby would breach the minimum", () =>
      expect(decideAutoScaling(asg("InService", 2, 2)).kind).to.equal("detach"));
    it("does nothing outside a group or already in Standby", () => {
      expect(decideAutoScaling(undefined).kind).to.equal("none");
      expect(decideAutoScaling(asg("Standby", 2, 2)).kind).to.equal("none");
    });
    it("reports a state where neither is possible", () =>
      expect(decideAutoScaling(asg("Pending", 0, 2)).kind).to.equal("impossible"));
  });

  describe("containment groups", () => {
    it("creates missing groups, adds missing allow-all rules, and strips any rule someone added to the isolation group", () => {
      expect(decideGroup("isolation", undefined)).to.deep.equal({ kind: "create", role: "isolation" });
      const allow = decideGroup("allow-all", {
        id: "sg-a",
        vpcId: "v",
        role: "allow-all",
        ingress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        egress: [],
      });
      expect(allow).to.include({ kind: "use", id: "sg-a" });
      if (allow.kind !== "use") throw new Error("unreachable");
      expect(allow.authorizeIngress).to.deep.equal([{ IpProtocol: "-1", Ipv6Ranges: [{ CidrIpv6: "::/0" }] }]);
      expect(allow.authorizeEgress).to.have.length(2);
      const rule = { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.0.0.0/8" }] };
      const iso = decideGroup("isolation", { id: "sg-i", vpcId: "v", role: "isolation", ingress: [rule], egress: [] });
      if (iso.kind !== "use") throw new Error("unreachable");
      expect(iso.revokeIngress).to.deep.equal([rule]);
    });
  });

  describe("instance plan", () => {
    const snapshot = (over: Partial<InstanceSnapshot> = {}): InstanceSnapshot => ({
      instanceId: "i-0123456789abcdef0",
      state: "running",
      vpcId: "vpc-1",
      interfaces: [{ id: "eni-1", deviceIndex: 0, groups: ["sg-app", "sg-db"] }],
      volumes: [
        { device: "/dev/xvda", volumeId: "vol-1", deleteOnTermination: true },
        { device: "/dev/xvdb", volumeId: "vol-2", deleteOnTermination: false },
      ],
      httpTokens: "optional",
      disableApiTermination: false,
      disableApiStop: true,
      tags: { owner: "team-a" },
      ...over,
    });
    it("changes only what is not already contained, and saves every interface's groups", () => {
      const plan = planInstance(snapshot(), [], "IR-1", NOW);
      expect(plan.enableTerminationProtection).to.equal(true);
      expect(plan.enableStopProtection).to.equal(false);
      expect(plan.keepVolumes).to.deep.equal([{ device: "/dev/xvda", volumeId: "vol-1" }]);
      expect(plan.requireImdsV2From).to.equal("optional");
      expect(plan.interfaces).to.deep.equal([{ id: "eni-1", groups: ["sg-app", "sg-db"], connectionTracking: null }]);
      expect(plan.subnets).to.deep.equal([]);
      expect(plan.tags.map((t) => [t.key, t.previous])).to.deep.equal([
        ["flz:case", null],
        ["flz:contained-at", null],
      ]);
    });
    it("never saves a containment group of ours as an interface's original group", () => {
      const ours = [
        { id: "sg-allow", vpcId: "vpc-1", role: "allow-all" as const, ingress: [], egress: [] },
        { id: "sg-iso", vpcId: "vpc-1", role: "isolation" as const, ingress: [], egress: [] },
      ];
      const stuck = planInstance(
        snapshot({ interfaces: [{ id: "eni-1", deviceIndex: 0, groups: ["sg-allow"] }] }),
        ours,
        "IR-1",
        NOW,
      );
      expect(stuck.interfaces).to.deep.equal([{ id: "eni-1", groups: null, connectionTracking: null }]);
      const mixed = planInstance(
        snapshot({ interfaces: [{ id: "eni-1", deviceIndex: 0, groups: ["sg-app", "sg-allow"] }] }),
        ours,
        "IR-1",
        NOW,
      );
      expect(mixed.interfaces[0].groups).to.deep.equal(["sg-app"]);
      const isolated = planInstance(
        snapshot({ interfaces: [{ id: "eni-1", deviceIndex: 0, groups: ["sg-iso"] }] }),
        ours,
        "IR-1",
        NOW,
      );
      expect(isolated.interfaces).to.deep.equal([]);
    });
    it("refuses an instance that is gone or in no security group", () => {
      expect(() => planInstance(snapshot({ state: "terminated" }), [], "IR-1", NOW)).to.throw(UsageError, /terminated/);
      expect(() => planInstance(snapshot({ interfaces: [] }), [], "IR-1", NOW)).to.throw(
        UsageError,
        /no security group/,
      );
    });
  });

  describe("undo", () => {
    const records = [
      rec(0, "capture.started"),
      rec(1, "contain.access-key.deactivated", { undo: { kind: "access-key" } }),
      rec(2, "contain.undone", { details: { undoes: 1 } }),
      rec(3, "contain.sessions.revoked", { undo: { kind: "sessions" } }),
    ];
    const T = { targets: ["quarantine:principal:arn:aws:iam::333333333333:role/app"] };
    const intent = (sequence: number, undoes?: number) =>
      rec(sequence, "contain.intent", {
        details: {
          for: undoes === undefined ? "contain.sessions.revoked" : "contain.undone",
          ...T,
          plan: { undoes: undoes ?? null },
        },
        undo: { kind: "quarantine" },
      });
    const done = (sequence: number, of: number) =>
      rec(sequence, "contain.sessions.revoked", { details: { intent: of, ...T }, undo: { kind: "quarantine" } });
    const undone = (sequence: number, of: number, undoes: number) =>
      rec(sequence, "contain.undone", { details: { intent: of, undoes, ...T } });
    it("refuses an action a later record on the same target changed, naming it, unless forced", () => {
      const chain = [rec(0, "case.opened"), intent(1), done(2, 1), intent(3), done(4, 3)];
      expect(() => decideUndo(chain, 2, "IR-1")).to.throw(
        UsageError,
        /^record 4 \(contain.sessions.revoked\) changed quarantine:principal:.* after record 2: undo record 4 first, or give --force/,
      );
      const forced = decideUndo(chain, 2, "IR-1", true);
      expect(forced.kind === "undo" && forced.overridden.map((r) => r.sequence)).to.deep.equal([3, 4]);
      // Once the later one is undone, the earlier one may be.
      const after = [...chain, intent(5, 4), undone(6, 5, 4)];
      expect(decideUndo(after, 2, "IR-1").kind).to.equal("undo");
    });
    it("undoes an interrupted action (an intent without completion) from its intent", () => {
      const chain = [rec(0, "case.opened"), intent(1)];
      const decision = decideUndo(chain, 1, "IR-1");
      expect(decision.kind === "undo" && decision.interrupted).to.equal(true);
    });
    it("finds the record, and reports one already undone", () => {
      expect(decideUndo(records, 3, "IR-1").kind).to.equal("undo");
      const already = decideUndo(records, 1, "IR-1");
      expect(already.kind === "already" && already.by.sequence).to.equal(2);
    });
    it("refuses records that cannot be undone, naming them", () => {
      expect(() => decideUndo(records, 0, "IR-1")).to.throw(
        UsageError,
        /record 0 of case IR-1 \(capture.started\) carries no undo information/,
      );
      expect(() => decideUndo(records, 2, "IR-1")).to.throw(UsageError, /is itself an undo/);
      expect(() => decideUndo(records, 9, "IR-1")).to.throw(UsageError, /has no record 9: its records are 0 to 3/);
      expect(() => parseSequence("three")).to.throw(UsageError, /--action three is not a record sequence number/);
    });
  });

  it("accepts the case IDs the ledger accepts", () => {
    expect(requireCaseId("IR-2026-0042")).to.equal("IR-2026-0042");
    expect(() => requireCaseId("../etc")).to.throw(UsageError, /not a usable case ID/);
  });
});
