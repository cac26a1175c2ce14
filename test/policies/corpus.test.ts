/**
 * Ordinary, well-configured programs written by someone else (test/policies/corpus/): run through the recording mock
 * engine and the whole pack, in process and over the Analyzer protocol, as at `pulumi up` and at a first preview.
 * None may get a mandatory violation: a guardrail that cries wolf on ordinary programs gets switched off.
 */
import { expect } from "chai";
import { runProgram, type RecordedResource } from "../../scripts/plan/mock-engine";
import type { PackVerdict } from "../../scripts/plan/evaluate";
import { accountBaseline, evidenceOptIn, multiRegion, oidcDeployRole, partnerAccess } from "./corpus/platform";
import { containerCluster, dataPipeline, queueWorker, serverlessApi, staticSite, webService } from "./corpus/apps";
import type { CorpusProgram } from "./corpus/common";
import { evaluateBoth } from "./helpers";

const CORPUS: CorpusProgram[] = [
  webService,
  staticSite,
  queueWorker,
  oidcDeployRole,
  dataPipeline,
  containerCluster,
  serverlessApi,
  accountBaseline,
  evidenceOptIn,
  multiRegion,
  partnerAccess,
];

function mandatory(verdict: PackVerdict): string[] {
  return verdict.policies
    .filter((p) => p.enforcementLevel === "mandatory")
    .flatMap((p) => p.violations.map((v) => `${p.name}: ${v.name ?? "(stack)"}: ${v.message}`));
}

describe("ordinary programs get no mandatory violation", function () {
  this.timeout(300_000);
  let total = 0;
  after(() => console.log(`      ordinary-program corpus: ${CORPUS.length} programs, ${total} mandatory violations`));

  it("has at least ten programs of different kinds", () => {
    expect(CORPUS.length).to.be.at.least(10);
    expect(new Set(CORPUS.map((p) => p.name)).size).to.equal(CORPUS.length);
  });

  for (const corpus of CORPUS) {
    it(corpus.name, async () => {
      const run = await runProgram(corpus.program);
      const resources: RecordedResource[] = run.resources;
      expect(resources.length, "the program registered resources").to.be.at.least(2);
      const known = await evaluateBoth(resources, { stackTags: corpus.stackTags });
      const preview = await evaluateBoth(resources, { stackTags: corpus.stackTags, preview: "create" });
      const found = [...mandatory(known), ...mandatory(preview).map((m) => `(first preview) ${m}`)];
      total += found.length;
      expect(found, "mandatory violations").to.deep.equal([]);
      // The pack looked at the program: some rules applied, not everything was out of scope.
      expect(known.policies.filter((p) => p.status === "pass").length).to.be.at.least(1);
    });
  }
});
