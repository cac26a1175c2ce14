import { expect } from "chai";
import { MEMORY_MAX_PARTS, memoryCaptureDocument } from "../../../components/documents/ssm-memory";
import {
  checkCommandSize,
  commandSize,
  MAX_PART_MIB,
  partsThatFit,
  planParts,
  SSM_COMMAND_SIZE_LIMIT,
} from "../../../scripts/capture/memory-plan";
import { OperationError, UsageError } from "../../../scripts/errors";

// The document as the member account holds it (GetDocument returns the content as deployed, compact JSON).
const DOCUMENT_BYTES = Buffer.byteLength(JSON.stringify(memoryCaptureDocument({ toolSha256: "ab".repeat(32) })));
// A pre-signed URL with an assumed-role session token is about 2,000 characters.
const URL_LIKE_AWS = `https://evidence-bucket.s3.us-east-1.amazonaws.com/cases/IR-1/evidence/memory/x.lime?${"X-Amz-Security-Token=".padEnd(1900, "A")}`;

function parametersFor(parts: number, partSizeMiB: number) {
  return {
    ToolUrl: [URL_LIKE_AWS],
    UploadUrl: [URL_LIKE_AWS],
    PartSignatures: [Array.from({ length: parts }, () => "f".repeat(64)).join(" ")],
    PartSizeMiB: [String(partSizeMiB)],
    ExecutionTimeout: ["3300"],
  };
}

describe("flz capture memory: SSM's 64 KB limit on a command (document + parameters)", () => {
  it("leaves room for fewer part signatures than the document's pattern admits, counting the real document", () => {
    const fit = partsThatFit(DOCUMENT_BYTES);
    // 2,000 signatures alone are 130 KB: the old plan would have been refused by SSM for large instances.
    expect(fit).to.be.lessThan(MEMORY_MAX_PARTS);
    expect(fit).to.be.greaterThan(500);
    expect(commandSize(DOCUMENT_BYTES, parametersFor(fit, 64))).to.be.at.most(SSM_COMMAND_SIZE_LIMIT);
  });

  it("grows the parts of a large instance so the command fits, and every plan's command is under the limit", () => {
    const fit = partsThatFit(DOCUMENT_BYTES);
    for (const memoryMiB of [512, 16 * 1024, 64 * 1024, 256 * 1024, 512 * 1024]) {
      const plan = planParts(memoryMiB, undefined, fit);
      expect(plan.parts, `${memoryMiB} MiB`).to.be.at.most(fit);
      // The image (memory + a quarter) fits in the parts prepared.
      expect((plan.parts - 2) * plan.partSizeMiB).to.be.at.least(memoryMiB * 1.25);
      const parameters = parametersFor(plan.parts, plan.partSizeMiB);
      expect(commandSize(DOCUMENT_BYTES, parameters), `${memoryMiB} MiB`).to.be.at.most(SSM_COMMAND_SIZE_LIMIT);
      expect(() => checkCommandSize(DOCUMENT_BYTES, parameters, plan, memoryMiB)).not.to.throw();
    }
    // 256 GiB of memory: 64 MiB parts would need over 5,000; the plan picks parts large enough.
    expect(planParts(256 * 1024, undefined, fit).partSizeMiB).to.be.greaterThan(64);
  });

  it("refuses, naming the smallest size that fits, a chosen part size that needs too many parts", () => {
    const fit = partsThatFit(DOCUMENT_BYTES);
    expect(() => planParts(256 * 1024, 64, fit))
      .to.throw(UsageError)
      .with.property("message")
      .that.matches(/^--part-size-mib 64 would need \d+ parts .* leaves room for \d+: choose at least \d+$/);
  });

  it("says in one line that memory too large for 1 GiB parts cannot be captured by one command", () => {
    const fit = partsThatFit(DOCUMENT_BYTES);
    const tooLarge = Math.ceil(((fit - 2) * MAX_PART_MIB) / 1.25) + 1024;
    expect(() => planParts(tooLarge, undefined, fit))
      .to.throw(OperationError)
      .with.property("message")
      .that.matches(/cannot capture this instance's memory in one command$/)
      .and.not.contains("\n");
  });

  it("refuses before sending a command whose real URLs push it over the limit, naming a part size that fits", () => {
    const plan = { partSizeMiB: 64, parts: 900, expectedBytes: 0 };
    const parameters = parametersFor(plan.parts, plan.partSizeMiB);
    expect(commandSize(DOCUMENT_BYTES, parameters)).to.be.greaterThan(SSM_COMMAND_SIZE_LIMIT);
    expect(() => checkCommandSize(DOCUMENT_BYTES, parameters, plan, 40 * 1024))
      .to.throw(OperationError)
      .with.property("message")
      .that.matches(
        /bytes of document and parameters \(900 parts of 64 MiB\), over SSM's limit of 64000: rerun with --part-size-mib \d+$/,
      );
  });
});
