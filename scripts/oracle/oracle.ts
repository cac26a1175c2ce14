/**
 * The authorization oracle: records every call made through the client factory (through the neutral hook of
 * `scripts/aws/observer.ts`) and evaluates each with `@cloud-copilot/iam-simulate` against what would be in force on
 * AWS for the caller and the resource: the caller's identity policies as the stack deploys them, the SCPs above the
 * caller's account, the RCPs above the resource's account, and the resource's own policy (bucket, key, trust). A call
 * AWS would deny is reported with the statement or document that decided it.
 *
 * The evaluator and the action catalogue are development dependencies (`iam-simulate` is AGPL): they are handed in by
 * `index.ts`, which loads them only when they are installed.
 */
import {
  accountAdministersKey,
  PURPOSE_TAG_KEY,
  type KeyPurpose,
  type PolicyDocument,
} from "../../components/documents";
import type { CallIdentity, ObservedCall } from "../aws/observer";
import { actionsOf, resourcesOf, type AuthorizationRequest, type IamData, type MappingContext } from "./requests";
import { implicitRequests, requestContext } from "./request-context";
import { organizationsImplicit, organizationsResources, type OrganizationIds } from "./organizations";
import { UNMODELED, type CallRecord, type Decision, type Principal, type Simulator, type Verdict } from "./decisions";
import { describeDenial, describeDocuments, grantOf } from "./messages";
import { OracleState } from "./state";
import type { NamedDocument, OracleWorld, WorldRole } from "./world";

const FULL_AWS_ACCESS: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

/**
 * `RCPFullAWSAccess`, which AWS attaches to the root, every OU and every account once resource control policies are
 * enabled (our RCPs only deny on top of it). iam-simulate's checked entry point adds it itself; its unsafe entry point
 * (0.1.173) does not, so the oracle adds it there.
 */
const RCP_FULL_AWS_ACCESS: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: "*", Action: "*", Resource: "*" }],
};

/** The authorization oracle over one world. */
export class AuthorizationOracle {
  /** Learned facts. */
  readonly state = new OracleState();
  /** Every call recorded, in order. */
  readonly records: CallRecord[] = [];
  private pending: { sequence: number; call: ObservedCall }[] = [];
  private sequence = 0;

  constructor(
    readonly world: OracleWorld,
    private readonly data: IamData,
    private readonly simulator: Simulator,
  ) {}

  /** The observer to install (`setCallObserver(oracle.observer)`). */
  readonly observer = (call: ObservedCall): void => {
    this.pending.push({ sequence: this.sequence++, call });
  };

  /** Evaluates every call recorded since the last evaluation; returns their records. */
  async evaluatePending(): Promise<CallRecord[]> {
    const batch = this.pending.sort((a, b) => a.sequence - b.sequence);
    this.pending = [];
    const done: CallRecord[] = [];
    for (const { sequence, call } of batch) {
      const record = await this.evaluateCall(sequence, call);
      this.records.push(record);
      done.push(record);
    }
    return done;
  }

  private inOrganization(account: string): boolean {
    const w = this.world;
    return account === w.managementAccountId || account === w.forensicAccountId || w.memberAccountIds.includes(account);
  }

  /** Resolves a call's identity; a string says why the call is outside the oracle's world. */
  principalOf(identity: CallIdentity): Principal | string {
    if (identity.kind === "base") {
      return {
        arn: this.world.operator.arn,
        account: this.world.operator.arn.split(":")[4],
        name: this.world.operator.arn.slice(this.world.operator.arn.lastIndexOf("/") + 1),
        sessionTags: {},
        operator: true,
      };
    }
    const account = identity.roleArn.split(":")[4];
    const name = identity.roleArn.slice(identity.roleArn.lastIndexOf("/") + 1);
    const outside = this.world.outsideRoles[name];
    if (outside !== undefined) return `made as ${name}, ${outside}`;
    if (!this.inOrganization(account))
      return `made as ${identity.roleArn}, an account outside the emulator's organisation (a test's own fixture landing zone)`;
    if (!this.role(name, account))
      return `${UNMODELED}: made as ${identity.roleArn}, a role the oracle's world (scripts/oracle/world.ts) does not hold`;
    if (identity.assumedBy.kind === "role") {
      const via = this.principalOf(identity.assumedBy);
      if (typeof via === "string") return via;
    }
    return {
      arn: identity.roleArn,
      account,
      name,
      sessionTags: identity.sessionTags,
      sessionName: identity.sessionName,
      ...(identity.sessionPolicy !== undefined ? { sessionPolicy: identity.sessionPolicy } : {}),
      operator: false,
    };
  }

  private role(name: string, account: string): WorldRole | undefined {
    return this.world.roles.find((r) => r.name === name && r.accounts.includes(account));
  }

  private bucket(name: string) {
    return this.world.buckets.find((b) => b.name === name);
  }

  /** The key of `purpose` in the forensic account and `region`, as learned from its creation. */
  private keyOfPurpose(purpose: KeyPurpose, region: string): string | undefined {
    for (const [arn, tags] of this.state.tags) {
      if (!arn.startsWith("arn:aws:kms:")) continue;
      const [, , , keyRegion, account] = arn.split(":");
      if (tags[PURPOSE_TAG_KEY] === purpose && keyRegion === region && account === this.world.forensicAccountId)
        return arn;
    }
    return undefined;
  }

  private organizationIds(): OrganizationIds {
    return { organizationId: this.world.organizationId, managementAccountId: this.world.managementAccountId };
  }

  private mappingContext(account: string): MappingContext {
    return {
      account,
      state: this.state,
      bucketAccount: (name) => this.bucket(name)?.account,
      bucketKeyArn: (name) => {
        const bucket = this.bucket(name);
        return bucket ? this.keyOfPurpose(bucket.keyPurpose, this.world.homeRegion) : undefined;
      },
    };
  }

  private async evaluateCall(sequence: number, call: ObservedCall): Promise<CallRecord> {
    let principal = this.principalOf(call.identity);
    // Assuming a role that stands for someone outside the landing zone is that outsider's own first step.
    const target = typeof call.input.RoleArn === "string" ? call.input.RoleArn : "";
    const targetName = target.slice(target.lastIndexOf("/") + 1);
    const targetAccount = target.split(":")[4] ?? "";
    if (call.operation === "AssumeRole" && this.world.outsideRoles[targetName] !== undefined)
      principal = `assuming ${targetName}, ${this.world.outsideRoles[targetName]}`;
    else if (call.operation === "AssumeRole" && target !== "" && !this.role(targetName, targetAccount))
      principal = `${UNMODELED}: assuming ${target}, a role the oracle's world (scripts/oracle/world.ts) does not hold`;
    // The operator's own credentials used directly (no landing zone given, or a test building its fixtures): their
    // permissions are the organisation's, not this stack's. Only their entry into the forensic roles is the stack's.
    else if (call.identity.kind === "base" && !(call.signingName === "sts" && call.operation === "AssumeRole"))
      principal = "made with the operator's own credentials, not through the landing zone's roles";
    const account = typeof principal === "string" ? (call.account ?? this.world.forensicAccountId) : principal.account;
    // Learn first from what the emulator answered (even for outside principals: their fixtures are what later calls
    // act on), so this call's own outputs (a created snapshot's ID) are known.
    this.state.learn(call, call.account ?? account);
    if (typeof principal === "string") return { sequence, call, outside: principal, gaps: [], decisions: [] };
    const gaps: string[] = [];
    const requests: AuthorizationRequest[] = [];
    const ctx = this.mappingContext(principal.account);
    const mapped = await actionsOf(this.data, call);
    if ("problem" in mapped) gaps.push(mapped.problem);
    else {
      for (const action of mapped.actions) {
        if (mapped.alwaysAllowed) {
          requests.push({
            action,
            resource: "*",
            resourceAccount: principal.account,
            context: {},
            alwaysAllowed: mapped.alwaysAllowed,
          });
          continue;
        }
        if (call.signingName === "organizations") {
          // Organizations ARNs name the management account and the organisation, which no request carries.
          const resolved = organizationsResources(call, this.organizationIds(), this.state);
          if (typeof resolved === "string") gaps.push(resolved);
          else
            for (const r of resolved)
              requests.push({ action, resource: r.arn, resourceAccount: r.account, context: r.context });
          continue;
        }
        const resolved = await resourcesOf(this.data, call, action, ctx);
        if ("problem" in resolved) gaps.push(resolved.problem);
        else
          for (const r of resolved.resources)
            requests.push({ action, resource: r.arn, resourceAccount: r.account, context: requestContext(call) });
      }
      requests.push(...implicitRequests(call, ctx));
      for (const r of organizationsImplicit(call, this.organizationIds(), this.state))
        requests.push({
          action: "organizations:TagResource",
          resource: r.arn,
          resourceAccount: r.account,
          // The caller's own permission (not a service acting for it): no onBehalf, so aws:ViaAWSService stays false.
          context: r.context,
        });
    }
    const decisions: Decision[] = [];
    for (const request of requests) {
      const outcome = await this.evaluateOne(principal, call, request);
      if (typeof outcome === "string") gaps.push(outcome);
      else decisions.push(outcome);
    }
    return { sequence, call, principal, gaps, decisions };
  }

  /** The resource policy that applies to `request`, or a string saying why it cannot be known. */
  private resourcePolicy(request: AuthorizationRequest): NamedDocument | undefined | string {
    const arn = request.resource;
    if (arn.startsWith("arn:aws:s3:::")) {
      const bucket = this.bucket(arn.slice("arn:aws:s3:::".length).split("/")[0]);
      return bucket?.policy;
    }
    if (arn.startsWith("arn:aws:kms:")) {
      const purpose = this.state.tags.get(arn)?.[PURPOSE_TAG_KEY] as KeyPurpose | undefined;
      if (purpose !== undefined && this.world.keyPolicies[purpose]) return this.world.keyPolicies[purpose];
      // A key created without a policy gets KMS's default key policy (KMS developer guide, "Default key policy").
      return {
        name: "default key policy",
        builder: "accountAdministersKey (KMS default key policy)",
        document: {
          Version: "2012-10-17",
          Statement: [accountAdministersKey("aws", arn.split(":")[4], "Enable IAM User Permissions")],
        },
      };
    }
    if (request.action.startsWith("organizations:")) return this.world.organizationsResourcePolicy;
    if (request.action.startsWith("sts:") && arn.includes(":role/")) {
      const account = arn.split(":")[4];
      const name = arn.slice(arn.lastIndexOf("/") + 1);
      const role = this.role(name, account);
      if (!role) return `the trust policy of ${arn} is not in the oracle's world (scripts/oracle/world.ts)`;
      return role.trust;
    }
    return undefined;
  }

  private contextFor(
    principal: Principal,
    call: ObservedCall,
    request: AuthorizationRequest,
  ): Record<string, string | string[]> {
    const issued = principal.operator
      ? undefined
      : this.state.sessions.get(`${principal.arn}|${principal.sessionName ?? ""}`);
    const resourceId = request.resource.startsWith("arn:aws:kms:")
      ? request.resource
      : request.resource.includes(":autoScalingGroup:")
        ? `asg:${request.resourceAccount}|${call.region}|${request.resource.slice(request.resource.lastIndexOf("/") + 1)}`
        : request.resource.slice(request.resource.lastIndexOf("/") + 1);
    const resourceTags = this.state.tags.get(resourceId) ?? {};
    const context: Record<string, string | string[]> = {
      "aws:SecureTransport": "true",
      "aws:CurrentTime": call.startedAt.toISOString(),
      "aws:EpochTime": String(Math.floor(call.startedAt.getTime() / 1000)),
      "aws:RequestedRegion": call.region ?? this.world.homeRegion,
      "aws:PrincipalArn": principal.arn,
      "aws:PrincipalAccount": principal.account,
      "aws:PrincipalType": "AssumedRole",
      "aws:PrincipalIsAWSService": "false",
      "aws:ViaAWSService": request.onBehalf ? "true" : "false",
      "aws:ResourceAccount": request.resourceAccount,
      ...Object.fromEntries(Object.entries(principal.sessionTags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
      ...Object.fromEntries(Object.entries(resourceTags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
    };
    if (issued) context["aws:TokenIssueTime"] = issued.toISOString();
    if (this.inOrganization(principal.account)) context["aws:PrincipalOrgID"] = this.world.organizationId;
    if (this.inOrganization(request.resourceAccount)) context["aws:ResourceOrgID"] = this.world.organizationId;
    return { ...context, ...request.context };
  }

  private identityPolicies(principal: Principal): NamedDocument[] | string {
    if (principal.operator) return [...this.world.operator.policies];
    const role = this.role(principal.name, principal.account);
    if (!role) return `${principal.arn} is not a role of the oracle's world (scripts/oracle/world.ts)`;
    if (role.managedPolicyArns.length > 0)
      return `${principal.name} has AWS managed policies (${role.managedPolicyArns.join(", ")}) whose content the oracle does not hold`;
    return [...role.policies];
  }

  /** Evaluates one request, or says why it cannot. */
  private async evaluateOne(
    principal: Principal,
    call: ObservedCall,
    request: AuthorizationRequest,
  ): Promise<Decision | string> {
    if (request.alwaysAllowed) return { request, verdict: "Allowed", deciding: [request.alwaysAllowed], grants: [] };
    const identity = this.identityPolicies(principal);
    if (typeof identity === "string") return identity;
    const resourcePolicy = this.resourcePolicy(request);
    if (typeof resourcePolicy === "string") return resourcePolicy;
    const bound = (account: string) => account !== this.world.managementAccountId && this.inOrganization(account);
    // Root and OU levels bind every account below them; a policy attached to an account binds that account only
    // (flz-protect-automation on the forensic account), as its own, last level.
    const orgLevels = (levels: OracleWorld["serviceControlPolicies"], account: string) =>
      levels.length === 0
        ? []
        : [
            ...levels
              .filter((l) => !/^\d{12}$/.test(l.target))
              .map((l) => ({
                orgIdentifier: l.target,
                policies: l.policies.map((p) => ({ name: p.name, policy: p.document })),
              })),
            {
              orgIdentifier: account,
              policies: levels
                .filter((l) => l.target === account)
                .flatMap((l) => l.policies.map((p) => ({ name: p.name, policy: p.document }))),
            },
          ];
    // SCPs bind the caller's account, RCPs the resource's; neither binds the management account.
    const scps = bound(principal.account)
      ? orgLevels(this.world.serviceControlPolicies, principal.account).map((l) => ({
          ...l,
          policies: [{ name: "FullAWSAccess", policy: FULL_AWS_ACCESS }, ...l.policies],
        }))
      : [];
    const rcps = bound(request.resourceAccount)
      ? orgLevels(this.world.resourceControlPolicies, request.resourceAccount)
      : [];
    // EC2 shares snapshots through their createVolumePermission attribute, not a resource policy: the recipient's
    // own identity policy is what IAM evaluates, so a shared snapshot is evaluated in the caller's account.
    const resourceAccount = request.resource.includes("::snapshot/") ? principal.account : request.resourceAccount;
    const simulation = {
      request: {
        principal: principal.arn,
        action: request.action,
        resource: { resource: request.resource, accountId: resourceAccount },
        contextVariables: this.contextFor(principal, call, request),
      },
      identityPolicies: identity.map((p) => ({ name: p.name, policy: p.document })),
      serviceControlPolicies: scps,
      resourceControlPolicies: rcps,
      ...(resourcePolicy ? { resourcePolicy: resourcePolicy.document } : {}),
      // A session opened with a session policy may do only what both its role's policies (or a resource policy
      // naming the role) and the session policy allow (IAM user guide, "Session policies"; "Policy evaluation logic").
      ...(principal.sessionPolicy !== undefined
        ? { sessionPolicy: JSON.parse(principal.sessionPolicy) as unknown }
        : {}),
    };
    const result = await this.simulator.runSimulation(simulation, {});
    if (result.resultType === "error")
      return `the simulator rejected ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`;
    const single = result.resultType === "single" ? result.result : result.results[0];
    const ignored =
      result.resultType === "single"
        ? (single.ignoredContextKeys ?? [])
        : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
    const safeVerdict = result.overallResult as Verdict;
    const grants =
      single && safeVerdict === "Allowed"
        ? this.simulator.getGrantReasons(single.analysis).map((g) => grantOf(g, identity, resourcePolicy))
        : [];
    const deciding = !single
      ? []
      : safeVerdict === "Allowed"
        ? grants.map((g) => `${g.sid ? `statement ${g.sid}` : "a statement"} of ${g.document}`)
        : this.simulator
            .getDenialReasons(single.analysis)
            .map((d) => describeDenial(d, identity, resourcePolicy, principal, request));
    // iam-simulate understands variable keys only as `prefix/name`, and KMS encryption-context keys are
    // `kms:EncryptionContext:<name>`: it drops them from the evaluation above. Such requests are decided by its unsafe
    // entry point (no context filtering), which names no statement; when both verdicts agree, the statements found
    // without the encryption context are the deciding ones.
    if (ignored.some((k) => /^kms:encryptioncontext:/i.test(k))) {
      const verdict = this.simulator.runUnsafeSimulation(
        {
          ...simulation,
          resourceControlPolicies: rcps.map((l) => ({
            ...l,
            policies: [{ name: "RCPFullAWSAccess", policy: RCP_FULL_AWS_ACCESS }, ...l.policies],
          })),
          resourcePolicy: resourcePolicy ? this.simulator.namedResourcePolicy(resourcePolicy.document) : undefined,
        },
        {},
      ) as Verdict;
      if (verdict !== safeVerdict)
        return { request, verdict, deciding: [describeDocuments(identity, resourcePolicy, verdict)], grants: [] };
    }
    return { request, verdict: safeVerdict, deciding, grants };
  }
}
