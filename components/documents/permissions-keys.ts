/**
 * What the forensic roles' identity policies share about keys: statements over a key scope and the evidence-key use
 * the responders of both sides need.
 */
import type { PolicyStatement } from "./types";
import { EVIDENCE_KEY_USE_ACTIONS } from "./kms";
import { mergeConditions, type ForensicKeysByTag, type KeyScope } from "./keys";
import { partitionOf } from "./validate";

/**
 * A statement over the keys of `scope`, its own condition merged with the scope's purpose-tag condition.
 * @param statement The statement without its resource.
 * @param scope The keys: ARNs, or the purpose-tag condition over an account's keys.
 */
export function onKeys(statement: Omit<PolicyStatement, "Resource">, scope: KeyScope): PolicyStatement {
  const condition =
    statement.Condition === undefined && scope.Condition === undefined
      ? undefined
      : mergeConditions(statement.Condition, scope.Condition);
  return { ...statement, Resource: scope.Resource, ...(condition === undefined ? {} : { Condition: condition }) };
}

/**
 * The partition of the first key ARN given, else of `keysByTag`, else `aws`.
 * @param arns Key ARNs, when the keys are named.
 * @param byTag The keys by purpose tag, when they are not.
 */
export function keyPartition(arns: readonly string[] | undefined, byTag: ForensicKeysByTag | undefined): string {
  const first = arns?.[0];
  return first !== undefined ? partitionOf(first) : (byTag?.partition ?? "aws");
}

/**
 * What the responders' identity policies allow on the evidence keys: the key policy's evidence-use list without
 * `kms:Encrypt`, which no command calls (EBS re-encrypts snapshot copies with data keys and `ReEncrypt`, S3 with data
 * keys; `docs/permissions.md` lists the calls).
 */
export const EVIDENCE_KEY_IDENTITY_ACTIONS: readonly string[] = EVIDENCE_KEY_USE_ACTIONS.filter(
  (a) => a !== "kms:Encrypt",
);

/**
 * Evidence-key use, with `CreateGrant` only for grants an AWS service (EBS) makes on the caller's behalf.
 * @param scope The evidence keys.
 */
export function evidenceKeyStatements(scope: KeyScope): PolicyStatement[] {
  return [
    onKeys({ Sid: "UseEvidenceKeys", Effect: "Allow", Action: [...EVIDENCE_KEY_IDENTITY_ACTIONS] }, scope),
    onKeys(
      {
        Sid: "CreateEvidenceKeyGrantsForAwsServices",
        Effect: "Allow",
        Action: "kms:CreateGrant",
        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
      },
      scope,
    ),
  ];
}
