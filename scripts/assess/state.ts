/**
 * The resume file of `flz assess`: what each finished unit (the management account, the forensic account, an
 * account, a region of an account) read, written after every unit, so an interrupted run continues where it stopped
 * instead of reading everything again. Only units that were read are kept: a unit that failed is tried again.
 * Written atomically (temporary file, then rename), so an interruption mid-write never leaves a torn file.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { UsageError } from "../errors";

/** What a state file holds. */
export interface AssessmentState {
  /** Format version. */
  readonly version: 1;
  /** Identity of the assessment (organisation, accounts, regions): a state file resumes only the same assessment. */
  readonly fingerprint: string;
  /** When the first attempt started. */
  readonly startedAt: string;
  /** Facts of each finished unit, by unit key. */
  readonly units: Record<string, unknown>;
}

/** What makes two runs the same assessment. */
export interface AssessmentIdentity {
  readonly organizationId: string;
  readonly forensicAccountId: string;
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
}

/** The fingerprint of an assessment: SHA-256 of its sorted identity. */
export function fingerprint(identity: AssessmentIdentity): string {
  const canonical = JSON.stringify({
    organizationId: identity.organizationId,
    forensicAccountId: identity.forensicAccountId,
    accounts: [...identity.accounts].sort(),
    regions: [...identity.regions].sort(),
  });
  return createHash("sha256").update(canonical).digest("hex");
}

/** Facts older than this are not resumed: the organisation may have changed since. */
export const MAX_STATE_AGE_MS = 24 * 3_600_000;

/** A state file on disk. */
export class StateFile {
  private state: AssessmentState;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    state: AssessmentState,
    /** Units carried over from an earlier attempt. */
    readonly resumedUnits: number,
  ) {
    this.state = state;
  }

  /**
   * Opens (or starts) the state of an assessment.
   *
   * @param file the state file.
   * @param identity the assessment it must belong to.
   * @param now the current time.
   * @param fresh ignore an existing file (start over).
   * @param note where to say that an old or foreign state is being ignored.
   */
  static open(
    file: string,
    identity: AssessmentIdentity,
    now: Date,
    fresh: boolean,
    note: (line: string) => void,
  ): StateFile {
    const id = fingerprint(identity);
    const start = (): StateFile =>
      new StateFile(file, { version: 1, fingerprint: id, startedAt: now.toISOString(), units: {} }, 0);
    if (fresh) return start();
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return start();
      throw new UsageError(`cannot read the state file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    let parsed: AssessmentState;
    try {
      parsed = JSON.parse(text) as AssessmentState;
    } catch {
      throw new UsageError(`the state file ${file} is not JSON: delete it or pass --fresh to start over`);
    }
    if (parsed.version !== 1 || typeof parsed.units !== "object" || parsed.units === null)
      throw new UsageError(`the state file ${file} is not an flz assess state: delete it or pass --fresh`);
    if (parsed.fingerprint !== id)
      throw new UsageError(
        `the state file ${file} belongs to another assessment (other accounts, regions or organisation): pass --fresh to start over, or --state <file> for a separate one`,
      );
    const age = now.getTime() - Date.parse(parsed.startedAt);
    if (!(age <= MAX_STATE_AGE_MS)) {
      note(`state file ${file} is from ${parsed.startedAt}, more than 24 h ago: starting over`);
      return start();
    }
    return new StateFile(file, parsed, Object.keys(parsed.units).length);
  }

  /** When the assessment first started. */
  get startedAt(): string {
    return this.state.startedAt;
  }

  /** The facts of a finished unit, if any. */
  get(unit: string): unknown {
    return this.state.units[unit];
  }

  /** Records a finished unit and writes the file (writes are serialised). */
  record(unit: string, facts: unknown): Promise<void> {
    this.state = { ...this.state, units: { ...this.state.units, [unit]: facts } };
    const snapshot = JSON.stringify(this.state);
    this.writing = this.writing.then(() => {
      mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true });
      const tmp = `${this.file}.tmp-${process.pid}`;
      writeFileSync(tmp, snapshot);
      renameSync(tmp, this.file);
    });
    return this.writing;
  }

  /** Waits for pending writes. */
  flush(): Promise<void> {
    return this.writing;
  }

  /** Removes the file (the assessment finished: the next run is a new one). */
  async remove(): Promise<void> {
    await this.writing;
    rmSync(this.file, { force: true });
  }
}
