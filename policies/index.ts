/**
 * The CrossGuard policy pack, as `pulumi preview --policy-pack policies` loads it. This is the only module that
 * constructs the `PolicyPack` (doing so starts the analyzer's gRPC server and keeps the process alive): never import
 * it from tests or tools; import `./pack` instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { allRules, PACK_NAME } from "./pack";

new PolicyPack(PACK_NAME, {
  description:
    "Forensic readiness guardrails for AWS: immutable trail and evidence storage, forensic keys and roles, IMDSv2, organisation protections.",
  provider: "aws",
  tags: ["aws", "security", "incident-response", "forensics"],
  // Rules set their own level (mandatory for evidence integrity); this applies only to a rule that sets none.
  enforcementLevel: "advisory",
  policies: allRules,
});
