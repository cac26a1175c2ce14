/**
 * The quarantine statements of `contain principal --quarantine`, `contain account --quarantine` and
 * `contain technique` (issue 17): pure builders of SCP statements that go into the case's quarantine policies beside
 * the session revocations of `contain sessions` (`components/documents/quarantine.ts` packs them, respects the
 * 5,120-character and five-policies-per-target limits, and the delegation lets the forensic responder manage them).
 *
 * Unlike a session revocation, these carry no `aws:TokenIssueTime` condition: they deny the principal whatever its
 * credentials (sessions issued after containment, long-term access keys), until the containment is undone. SCPs never
 * restrict the management account or service-linked roles; they restrict only principals of the accounts they are
 * attached to (access into the account from principals elsewhere is a resource-policy or RCP question).
 */
import { createHash } from "node:crypto";
import { DocumentInputError, type PolicyStatement } from "../../components/documents";
import { UsageError } from "../errors";

const PRINCIPAL_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):(role|user)\/([\w+=,.@/-]{1,512})$/;

/** A role or user ARN, parsed. */
export interface PrincipalRef {
  /** The ARN as given. */
  readonly arn: string;
  /** Partition. */
  readonly partition: string;
  /** Account it lives in (the quarantine policy is attached there). */
  readonly account: string;
  /** `role` or `user`. */
  readonly type: "role" | "user";
  /** Name (path stripped). */
  readonly name: string;
  /** Path, `/` when none. */
  readonly path: string;
}

/**
 * Parses `--principal`: an IAM role or user ARN. An assumed-role session ARN is refused with the role ARN to give
 * instead (SCP conditions on `aws:PrincipalArn` see the role, not the session).
 */
export function parsePrincipalArn(text: string | undefined, flag = "--principal"): PrincipalRef {
  const value = (text ?? "").trim();
  const session = /^arn:(aws|aws-cn|aws-us-gov):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/.+$/.exec(value);
  if (session) {
    throw new UsageError(
      `${flag} ${value} is a role session: give the role, arn:${session[1]}:iam::${session[2]}:role/${session[3]} (with its path, if it has one)`,
    );
  }
  const m = PRINCIPAL_ARN.exec(value);
  if (!m) {
    throw new UsageError(
      `${flag} ${value || "(missing)"} is not an IAM role or user ARN: give arn:aws:iam::<account>:role/<name> or arn:aws:iam::<account>:user/<name>`,
    );
  }
  const full = m[4];
  const cut = full.lastIndexOf("/");
  return {
    arn: value,
    partition: m[1],
    account: m[2],
    type: m[3] as "role" | "user",
    name: cut >= 0 ? full.slice(cut + 1) : full,
    path: cut >= 0 ? `/${full.slice(0, cut + 1)}` : "/",
  };
}

/** A statement ID: a prefix and 24 hex digits of SHA-256 over the case and the key (SCP Sids: letters and digits). */
function sid(prefix: string, caseId: string, key: string): string {
  return `${prefix}${createHash("sha256").update(`${caseId}\n${key}`).digest("hex").slice(0, 24)}`;
}

/** `Deny *` for every request of the principal, whatever its credentials. */
export function principalQuarantineStatement(caseId: string, principal: PrincipalRef): PolicyStatement {
  return {
    Sid: sid("FlzP", caseId, `principal:${principal.arn}`),
    Effect: "Deny",
    Action: "*",
    Resource: "*",
    Condition: { ArnEquals: { "aws:PrincipalArn": principal.arn } },
  };
}

/** Arguments of {@link accountQuarantineStatement}. */
export interface AccountQuarantineArgs {
  /** The case. */
  readonly caseId: string;
  /** The member account. */
  readonly account: string;
  /** Partition of its ARNs. */
  readonly partition: string;
  /** Role names in the account that stay free: the member responder and investigator roles. */
  readonly exemptRoles: readonly string[];
}

/**
 * `Deny *` for every principal of the account except the forensic roles (by role ARN: `aws:PrincipalArn` of a role
 * session is its role's ARN), so responders can still capture and contain inside it.
 */
export function accountQuarantineStatement(args: AccountQuarantineArgs): PolicyStatement {
  if (args.exemptRoles.length === 0) {
    throw new DocumentInputError(
      "exemptRoles: an account quarantine must exempt the forensic roles, or no responder could act in it.",
    );
  }
  return {
    Sid: sid("FlzA", args.caseId, `account:${args.account}`),
    Effect: "Deny",
    Action: "*",
    Resource: "*",
    Condition: {
      ArnNotLike: {
        "aws:PrincipalArn": [...new Set(args.exemptRoles)]
          .sort()
          .map((name) => `arn:${args.partition}:iam::${args.account}:role/${name}`),
      },
    },
  };
}

const ACTION = /^[a-z0-9-]{2,64}:[A-Za-z0-9*?]{1,128}$/;

/** Parses `--deny`: comma-separated IAM actions (`s3:GetObject`, `s3:Get*`); a bare `*` is `principal --quarantine`. */
export function parseActions(text: string | undefined): string[] {
  const actions = [
    ...new Set(
      (text ?? "")
        .split(",")
        .map((a) => a.trim())
        .filter((a) => a !== ""),
    ),
  ];
  if (actions.length === 0) {
    throw new UsageError(
      "--deny is required: give the actions to deny, comma-separated, e.g. --deny s3:GetObject,s3:ListBucket",
    );
  }
  for (const action of actions) {
    if (action === "*" || /^\*:/.test(action)) {
      throw new UsageError(`--deny ${action} denies every action: use flz contain principal --quarantine for that`);
    }
    if (!ACTION.test(action)) {
      throw new UsageError(
        `--deny ${action} is not an IAM action: give service:Action, such as s3:GetObject or ec2:Describe*`,
      );
    }
  }
  return actions.sort();
}

/** Parses `--resource`: comma-separated ARNs (wildcards allowed); default every resource. */
export function parseResources(text: string | undefined): string[] {
  if (text === undefined) return ["*"];
  const resources = [
    ...new Set(
      text
        .split(",")
        .map((r) => r.trim())
        .filter((r) => r !== ""),
    ),
  ];
  if (resources.length === 0)
    throw new UsageError("--resource is empty: give one or more ARNs, comma-separated, or leave it out");
  for (const r of resources) {
    if (r !== "*" && !/^arn:(aws|aws-cn|aws-us-gov|\*):[a-z0-9*-]+:[^\s]*$/.test(r)) {
      throw new UsageError(
        `--resource ${r} is not an ARN: give arn:aws:<service>:<region>:<account>:<resource> (wildcards allowed)`,
      );
    }
  }
  return resources.sort();
}

/** Arguments of {@link techniqueStatement}. */
export interface TechniqueArgs {
  /** The case. */
  readonly caseId: string;
  /** Whose requests. */
  readonly principal: PrincipalRef;
  /** Actions denied (sorted, from {@link parseActions}). */
  readonly actions: readonly string[];
  /** Resources (sorted, from {@link parseResources}). */
  readonly resources: readonly string[];
}

/**
 * `Deny <actions>` on the resources for one principal, whatever its credentials. The statement ID is derived from the
 * principal, the actions and the resources, so repeating the same technique containment is a no-op and a different
 * one is a separate, separately undoable statement.
 */
export function techniqueStatement(args: TechniqueArgs): PolicyStatement {
  const key = `technique:${args.principal.arn}:${args.actions.join(",")}:${args.resources.join(",")}`;
  return {
    Sid: sid("FlzT", args.caseId, key),
    Effect: "Deny",
    Action: args.actions.length === 1 ? args.actions[0] : [...args.actions],
    Resource: args.resources.length === 1 ? args.resources[0] : [...args.resources],
    Condition: { ArnEquals: { "aws:PrincipalArn": args.principal.arn } },
  };
}
