import { expect } from "chai";
import { metricsHtml, metricsMarkdown } from "../../../scripts/cases/metrics-report";
import { metricInputEvent } from "../../../scripts/cases/metrics-input";
import { caseOpenedEvent } from "../../../scripts/cases/opened";
import { renderHtml, renderMarkdown } from "../../../scripts/custody/report";
import type { CustodyEvent, CustodyRecord } from "../../../scripts/custody/types";

const CASE = "IR-7";
function records(entries: [CustodyEvent, string][]): CustodyRecord[] {
  return entries.map(([e, time], sequence) => ({
    ...e,
    version: 1,
    sequence,
    case: CASE,
    time,
    actor: "arn:aws:sts::222222222222:assumed-role/R/s",
    previousHash: "0".repeat(64),
    hash: "0".repeat(64),
    signature: { keyArn: "k", algorithm: "ECDSA_SHA_256", value: "" },
  }));
}
const ledger = records([
  [
    caseOpenedEvent({ caseId: CASE, title: "t", awarenessTime: "2026-03-02T10:00:00Z", openedBy: "a" }),
    "2026-03-02T10:01:00Z",
  ],
  [{ action: "contain.sessions.revoked", subjects: ["r"], details: {} }, "2026-03-02T10:30:00Z"],
  [
    metricInputEvent(CASE, "first-indicator", new Date("2026-03-02T09:00:00Z"), {
      kind: "finding",
      id: "<script>alert(1)</script>",
    }),
    "2026-03-02T11:00:00Z",
  ],
]);

describe("incident metrics in the custody export and the drill report", () => {
  it("shows each metric with its value or why it is missing, and AWS's definition", () => {
    const text = metricsMarkdown(CASE, ledger).join("\n");
    expect(text).to.include("## Incident metrics (AWS Security Incident Response Guide)");
    expect(text).to.match(/\| Time to contain \| 30m 00s \|/);
    expect(text).to.match(/\| Time to recover \(MTTR: recover\) \| not computed: missing recovered: not recorded/);
    expect(text).to.include(
      "the time between initial alert or discovery of a possible security incident and first actions taken to respond",
    );
  });

  it("escapes what records carry in HTML", () => {
    const html = metricsHtml(CASE, ledger);
    expect(html).to.include('data-metric="detect"');
    expect(html).not.to.include("<script>");
    expect(html).to.include("&lt;script&gt;");
  });

  it("is a section of the custody export (Markdown and HTML)", () => {
    const input = {
      caseId: CASE,
      source: "s3://b/cases/IR-7/",
      keyArn: "k",
      publicKeySha256: "f",
      generatedAt: "2026-03-03T00:00:00Z",
      verification: { ok: true, verified: 3, total: 3, records: ledger },
      records: ledger,
    };
    expect(renderMarkdown(input)).to.include("| Time to detect | 1h 00m 00s |");
    expect(renderHtml(input)).to.include('<table id="incident-metrics">');
  });
});
