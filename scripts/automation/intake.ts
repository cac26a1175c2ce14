/**
 * The intake handler: opens the incident's case once (the `case.opened` event of `flz case open`), applies the
 * guardrails (decide.ts) and records the decision, then hands the rest of the state machine what to act on: the
 * targets to contain (one item each) and the instances to capture, grouped by region (the capture's copy quota is
 * per region), inline or, for an incident too large for the state's payload, as a list in the evidence bucket that a
 * Distributed Map reads.
 */
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetRoleCommand, IAMClient, ListUserTagsCommand } from "@aws-sdk/client-iam";
import { OPT_OUT_TAG_KEY, OPT_OUT_TAG_VALUE } from "../../components/documents/automation";
import type { ClientFactory } from "../aws/clients";
import { caseOpenedEvent } from "../cases/opened";
import type { CustodyRecord, JsonValue } from "../custody/types";
import type { ContainerState } from "./container";
import { decide, gate } from "./decide";
import { caseIdOf, incidentInstances, incidentOf, type Incident, type InstanceRef } from "./incident";
import { writeItemList } from "./item-list";
import {
  DECISION_ACTION,
  decisionEvent,
  type CaptureItem,
  type ContainItem,
  type IntakeInput,
  type IntakeOutput,
  type RegionGroup,
} from "./types";

type Tags = Record<string, string>;
const toMap = (tags: Array<{ Key?: string; Value?: string }> | undefined): Tags =>
  Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
const missing = (err: unknown): undefined => {
  const name = (err as { name?: string }).name ?? "";
  if (/NotFound|Malformed|NoSuchEntity/.test(name)) return undefined;
  throw err;
};

/** Tags of every instance, read with one DescribeInstances per account and region; absent: it does not exist. */
async function instanceTags(factory: ClientFactory, instances: readonly InstanceRef[]): Promise<Map<string, Tags>> {
  const byPlace = new Map<string, InstanceRef[]>();
  for (const i of instances)
    byPlace.set(`${i.account}|${i.region}`, [...(byPlace.get(`${i.account}|${i.region}`) ?? []), i]);
  const found = new Map<string, Tags>();
  await Promise.all(
    [...byPlace.values()].map(async (group) => {
      const ec2 = factory.client(EC2Client, { account: group[0].account, region: group[0].region });
      const ids = group.map((i) => i.instanceId);
      // One unknown ID fails the whole call: then each is read alone, so the others are still found.
      const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids })).catch(missing);
      const listed = out
        ? (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])
        : (
            await Promise.all(
              ids.map((id) =>
                ec2
                  .send(new DescribeInstancesCommand({ InstanceIds: [id] }))
                  .catch(missing)
                  .then((o) => (o?.Reservations ?? []).flatMap((r) => r.Instances ?? [])),
              ),
            )
          ).flat();
      for (const i of listed) if (i.InstanceId) found.set(`${group[0].account}|${i.InstanceId}`, toMap(i.Tags));
    }),
  );
  return found;
}

/** Tags of a role or user target; undefined when it does not exist. */
async function principalTags(factory: ClientFactory, incident: Incident): Promise<Tags | undefined> {
  const iam = factory.client(IAMClient, { account: incident.account, region: incident.region });
  const t = incident.target;
  if (t.kind === "role") {
    const out = await iam.send(new GetRoleCommand({ RoleName: t.roleName })).catch(missing);
    return out?.Role ? toMap(out.Role.Tags) : undefined;
  }
  if (t.kind === "access-key") {
    const out = await iam.send(new ListUserTagsCommand({ UserName: t.userName })).catch(missing);
    return out ? toMap(out.Tags) : undefined;
  }
  return undefined;
}

/** Why an instance of a multi-instance incident is left alone; undefined when the response may act on it. */
function leftAlone(i: InstanceRef, excluded: readonly string[], tags: Tags | undefined): string | undefined {
  if (excluded.includes(i.account)) return `account ${i.account} is excluded from automated response`;
  if (tags === undefined) return `instance ${i.instanceId} does not exist in ${i.account} ${i.region}`;
  if (tags[OPT_OUT_TAG_KEY] === OPT_OUT_TAG_VALUE)
    return `instance ${i.instanceId} is tagged ${OPT_OUT_TAG_KEY}=${OPT_OUT_TAG_VALUE}: never touched by automation`;
  return undefined;
}

/** The intake handler of one container. */
export function intakeHandler(
  container: ContainerState,
  lz: { forensicAccountId: string; homeRegion: string },
  now: () => Date,
) {
  return async (input: IntakeInput): Promise<IntakeOutput> => {
    const incident = incidentOf(input.event, lz.forensicAccountId);
    const caseId = caseIdOf(input.executionName);
    const factory = container.factory(caseId);
    const ledger = await container.ledger(caseId);
    const records = await ledger.records();
    // Record 0 of a new case, appended with the decision below in one batch (one claim): reading the target's tags
    // first changes nothing, so nothing needs recording before it.
    const opening =
      records.length === 0
        ? caseOpenedEvent({
            caseId,
            title: incident.title,
            awarenessTime: now().toISOString(),
            openedBy: `flz response automation (execution ${input.executionName})`,
          })
        : undefined;
    const earlier = records.find(
      (r: CustodyRecord) =>
        r.action === DECISION_ACTION &&
        (r.details as { stage?: string; findingId?: string } | undefined)?.stage === "intake" &&
        (r.details as { findingId?: string }).findingId === incident.findingId,
    );
    const facts = { killSwitch: input.killSwitch, earlierDecision: earlier?.sequence };
    const g = input.guardrails;
    const all = incidentInstances(incident);
    const several = incident.instances !== undefined;
    // The kill switch, a duplicate and an excluded account stop the response before anything in a member account is
    // read. For a multi-instance request, exclusions and opt-outs are decided per instance below.
    const stopped = gate(incident, several ? { ...g, excludedAccountIds: [] } : g, facts);
    let acting: InstanceRef[] = [];
    const leftOut: { [key: string]: JsonValue }[] = [];
    let targetTags: Tags | undefined;
    if (!stopped) {
      if (incident.target.kind === "instance") {
        const tags = await instanceTags(factory, all);
        for (const i of all) {
          const why = several
            ? leftAlone(i, g.excludedAccountIds, tags.get(`${i.account}|${i.instanceId}`))
            : undefined;
          if (why) leftOut.push({ instanceId: i.instanceId, account: i.account, region: i.region, reason: why });
          else acting.push(i);
        }
        // One instance: decide() names why it is left alone; several: the incident acts if any instance is left.
        targetTags = several
          ? acting.length > 0
            ? {}
            : undefined
          : tags.get(`${incident.account}|${all[0].instanceId}`);
      } else targetTags = await principalTags(factory, incident);
    }
    const decision = stopped ?? decide(incident, g, { ...facts, targetTags });
    if (decision.decision === "skip") acting = [];
    const base = { findingId: incident.findingId, target: incident.target, executionName: input.executionName };
    const captureItems: CaptureItem[] =
      decision.decision === "skip" ? [] : acting.map((i) => ({ caseId, ...i, lockDays: g.lockDays }));
    const containItems: ContainItem[] =
      decision.decision === "skip"
        ? []
        : incident.target.kind === "instance"
          ? acting.map((i) => ({
              ...base,
              caseId,
              account: i.account,
              region: i.region,
              target: { kind: "instance", instanceId: i.instanceId },
            }))
          : [{ ...base, caseId, account: incident.account, region: incident.region, target: incident.target }];
    const regions: RegionGroup[] = [...new Set(captureItems.map((c) => c.region))].map((region) => ({
      region,
      instances: captureItems.filter((c) => c.region === region),
    }));
    // Too many for the state's payload: the lists go to the evidence bucket, and Distributed Maps read them.
    const distributed = Math.max(captureItems.length, containItems.length) > input.maxInlineItems;
    // The lists are objects of the case: record 0 goes first, so no case prefix ever holds objects but no record 0.
    const openedFirst = distributed && opening ? await ledger.append(opening) : undefined;
    const written = distributed
      ? await writeItemList(factory, { bucket: input.listBucket, region: lz.homeRegion }, caseId, {
          contain: containItems,
          capture: captureItems,
        })
      : undefined;
    // Both appended in this turn: the ledger writes them as one batch, record 0 first.
    const opened = opening && !openedFirst ? ledger.append(opening) : undefined;
    const decided = ledger.append({
      ...decisionEvent(base, "intake", decision, {
        source: incident.source,
        findingType: incident.findingType,
        severity: incident.severity,
        account: incident.account,
        region: incident.region,
        ...(several ? { instances: acting.map((i) => i.instanceId), leftAlone: leftOut } : {}),
      }),
      ...(written ? { evidence: written.evidence } : {}),
    });
    const [record] = await Promise.all([decided, opened]);
    return {
      caseId,
      ...base,
      findingType: incident.findingType,
      account: incident.account,
      region: incident.region,
      decision: decision.decision,
      reason: decision.reason,
      summary: `${incident.title}: ${decision.reason}`,
      approvalTimeoutSeconds: g.approvalTimeoutSeconds,
      instanceCount: captureItems.length,
      distributed,
      containItems: distributed ? [] : containItems,
      regions: distributed ? [] : regions,
      ...(written ? { lists: written.lists } : {}),
      rateWindow: now().toISOString().slice(0, 13),
      decisionRecord: record.sequence,
    };
  };
}
