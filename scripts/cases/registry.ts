/**
 * The cases held in the evidence bucket: which exist (`cases/<id>/`), and what each one's record 0 says. Reads only:
 * the one writer of a case's first record is `flz case open`, through the custody ledger.
 */
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import { CustodyStore } from "../custody/store";
import { isValidCaseId, recordKey } from "../custody/record";
import type { CustodyRecord, JsonValue } from "../custody/types";
import { CASE_OPENED_ACTION, type CaseOpening } from "./opened";

/** Where the cases live. */
export interface CaseStore {
  /** An S3 client acting in the forensic account, in the bucket's region. */
  readonly s3: S3Client;
  /** The evidence bucket. */
  readonly bucket: string;
}

/** What record 0 of a case says about it. */
export type CaseHead =
  /** No record 0: the case was never opened (it may still hold other objects, e.g. a planted journal). */
  | { readonly kind: "missing"; readonly hasObjects: boolean }
  /** Record 0 is `case.opened`: the case exists. */
  | { readonly kind: "opened"; readonly opening: CaseOpening; readonly record: CustodyRecord }
  /** Record 0 is another action (a case started before `flz case open` existed) or cannot be read. */
  | { readonly kind: "other"; readonly reason: string; readonly record?: CustodyRecord };

function isObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads what a `case.opened` record states, or the reason it is not one. Only the opening's own fields are trusted
 * here; whether the record is genuine is `flz custody verify`'s question.
 *
 * @param record the parsed record 0 of a case.
 */
export function openingOf(record: unknown): { opening: CaseOpening } | { reason: string } {
  if (!isObject(record)) return { reason: "is not a JSON object" };
  if (record.action !== CASE_OPENED_ACTION)
    return {
      reason: `is ${typeof record.action === "string" ? `a ${JSON.stringify(record.action)}` : "not a case.opened"} record, not ${CASE_OPENED_ACTION}`,
    };
  const details = record.details;
  if (!isObject(details)) return { reason: "is a case.opened record without details" };
  const { title, awarenessTime, openedBy } = details;
  if (typeof title !== "string" || typeof awarenessTime !== "string" || typeof openedBy !== "string")
    return { reason: "is a case.opened record without a title, awareness time and opener" };
  if (Number.isNaN(Date.parse(awarenessTime)))
    return { reason: `is a case.opened record with an unreadable awareness time ${JSON.stringify(awarenessTime)}` };
  return { opening: { caseId: String(record.case), title, awarenessTime, openedBy } };
}

/**
 * Reads record 0 of a case and says whether it opens the case.
 *
 * @param store the evidence bucket and a client for it.
 * @param caseId a valid case ID.
 */
export async function readCaseHead(store: CaseStore, caseId: string): Promise<CaseHead> {
  // The custody store's read: a body cut off or a connection reset is read again, as for every custody record.
  const stored = await new CustodyStore(store.s3, store.bucket).read(recordKey(caseId, 0));
  if (!stored) return { kind: "missing", hasObjects: await hasAnyObject(store, caseId) };
  const bytes = stored.bytes;
  let parsed: unknown;
  try {
    // A UTF-8 byte-order mark is not JSON: such a record is damaged, and verify names it.
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    return { kind: "other", reason: "is not readable JSON" };
  }
  const read = openingOf(parsed);
  if ("reason" in read) return { kind: "other", reason: read.reason, record: parsed as CustodyRecord };
  return { kind: "opened", opening: read.opening, record: parsed as CustodyRecord };
}

async function hasAnyObject(store: CaseStore, caseId: string): Promise<boolean> {
  // The whole case prefix: a case whose record 0 is only claimed (held in its batch journal, custody-journal/) has
  // objects too, and verify must be able to say how it completes.
  const page = await store.s3.send(
    new ListObjectsV2Command({ Bucket: store.bucket, Prefix: `cases/${caseId}/`, MaxKeys: 1 }),
  );
  return (page.KeyCount ?? page.Contents?.length ?? 0) > 0;
}

/**
 * Every case ID with a folder in the bucket (`cases/<id>/`), sorted. Folders whose names are not case IDs are skipped.
 *
 * @param store the evidence bucket and a client for it.
 */
export async function listCaseIds(store: CaseStore): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await store.s3.send(
      new ListObjectsV2Command({ Bucket: store.bucket, Prefix: "cases/", Delimiter: "/", ContinuationToken: token }),
    );
    for (const p of page.CommonPrefixes ?? []) {
      const id = p.Prefix?.slice("cases/".length, -1);
      if (id && isValidCaseId(id)) ids.push(id);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return ids.sort();
}

/** One case as `flz case list` shows it. */
export interface CaseSummary {
  /** Case ID. */
  readonly caseId: string;
  /** `open` when record 0 is `case.opened`; `unopened` when the folder has no record 0; `legacy` otherwise. */
  readonly state: "open" | "unopened" | "legacy";
  /** Title, when opened. */
  readonly title?: string;
  /** Awareness time, when opened. */
  readonly awarenessTime?: string;
  /** Who opened it, when opened. */
  readonly openedBy?: string;
  /** When record 0 was written. */
  readonly openedAt?: string;
  /** Why record 0 does not open the case, when it does not. */
  readonly note?: string;
}

/**
 * Every case of the bucket with what its record 0 says, read in parallel.
 *
 * @param store the evidence bucket and a client for it.
 */
export async function listCases(store: CaseStore): Promise<CaseSummary[]> {
  const limit = pLimit(16);
  const ids = await listCaseIds(store);
  return Promise.all(
    ids.map((caseId) =>
      limit(async (): Promise<CaseSummary> => {
        const head = await readCaseHead(store, caseId);
        if (head.kind === "opened")
          return {
            caseId,
            state: "open",
            title: head.opening.title,
            awarenessTime: head.opening.awarenessTime,
            openedBy: head.opening.openedBy,
            openedAt: head.record.time,
          };
        if (head.kind === "missing")
          return { caseId, state: "unopened", note: "no record 0 (never opened; objects without a case)" };
        return {
          caseId,
          state: "legacy",
          note: `record 0 ${head.reason}`,
          ...(typeof head.record?.time === "string" ? { openedAt: head.record.time } : {}),
        };
      }),
    ),
  );
}
