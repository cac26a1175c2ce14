/**
 * How long custody objects are kept, and whether an object version is kept long enough (pure decisions).
 *
 * Why the ledger sets retention itself instead of relying on the bucket's default: a bucket's default Object Lock
 * retention can be changed or removed at any time, by any principal allowed `s3:PutBucketObjectLockConfiguration`,
 * and it applies only to versions written afterwards (REFERENCE.md, "Authorization facts the emulator cannot show").
 * A record written after an insider removed the default would carry no retention at all and could be deleted for
 * good. So every ledger write names its retention explicitly (`x-amz-object-lock-mode: COMPLIANCE` and
 * `x-amz-object-lock-retain-until-date`, S3 user guide "Configuring S3 Object Lock": explicit settings on a version
 * override the bucket default), and the ledger then reads back what S3 applied. The period is the bucket's default when
 * that is COMPLIANCE and longer than {@link MIN_CUSTODY_RETENTION_DAYS}, and never shorter than that floor, so lowering
 * the default cannot shorten the life of a custody record either.
 */

/** The shortest COMPLIANCE retention a custody object (record, journal, public key) is ever written with, in days. */
export const MIN_CUSTODY_RETENTION_DAYS = 365;

/**
 * Added to the retain-until date a ledger write asks for, so a client clock behind S3's by up to a day still yields
 * a version that {@link retentionProblem} accepts against its `LastModified` (which S3's clock sets).
 */
export const CLOCK_MARGIN_DAYS = 1;

const DAY_MS = 24 * 60 * 60 * 1000;

/** A bucket's default Object Lock retention, as `GetObjectLockConfiguration` reports it (absent when none). */
export interface DefaultRetention {
  /** `COMPLIANCE` or `GOVERNANCE`. */
  readonly mode?: string;
  /** Days, when the rule is in days. */
  readonly days?: number;
  /** Years, when the rule is in years (S3 counts a year as 365 days). */
  readonly years?: number;
}

/**
 * Days of COMPLIANCE retention a custody write asks for: the bucket's default when it is COMPLIANCE and longer, never
 * less than {@link MIN_CUSTODY_RETENTION_DAYS}. A GOVERNANCE default (which privileged principals may lift) or no
 * default at all counts as none.
 * @param bucketDefault the bucket's default retention, or undefined when it has none or it could not be read
 * @param floorDays the floor, default {@link MIN_CUSTODY_RETENTION_DAYS}
 */
export function custodyRetentionDays(
  bucketDefault: DefaultRetention | undefined,
  floorDays = MIN_CUSTODY_RETENTION_DAYS,
): number {
  if (bucketDefault?.mode !== "COMPLIANCE") return floorDays;
  const days = (bucketDefault.days ?? 0) + 365 * (bucketDefault.years ?? 0);
  return Math.max(floorDays, days);
}

/**
 * The retain-until date a write made at `now` asks for: `days` plus {@link CLOCK_MARGIN_DAYS}.
 * @param now the writer's clock
 * @param days retention in days (see {@link custodyRetentionDays})
 */
export function retainUntilFor(now: Date, days: number): Date {
  return new Date(now.getTime() + (days + CLOCK_MARGIN_DAYS) * DAY_MS);
}

/** The Object Lock state of one object version, as HeadObject or GetObject report it. */
export interface VersionLock {
  /** `ObjectLockMode`: `COMPLIANCE`, `GOVERNANCE`, or absent. */
  readonly mode?: string;
  /** `ObjectLockRetainUntilDate`, ISO 8601, or absent. */
  readonly retainUntil?: string;
}

/**
 * Why a version's retention is not what custody needs, or undefined when it is: COMPLIANCE (which nobody, root
 * included, can shorten or lift) until at least `writtenAt` plus `requiredDays`.
 * @param lock the version's Object Lock state
 * @param writtenAt when S3 stored the version (`LastModified`)
 * @param requiredDays days of retention required from `writtenAt`; 0 accepts any COMPLIANCE retention that outlives the write
 */
export function retentionProblem(
  lock: VersionLock,
  writtenAt: Date | undefined,
  requiredDays: number,
): string | undefined {
  if (lock.mode !== "COMPLIANCE")
    return lock.mode
      ? `has ${lock.mode} retention, not COMPLIANCE (a privileged principal can lift it)`
      : "has no Object Lock retention (it can be deleted)";
  const until = lock.retainUntil ? Date.parse(lock.retainUntil) : Number.NaN;
  if (Number.isNaN(until)) return "has COMPLIANCE mode but no retain-until date";
  if (!writtenAt) return undefined;
  const needed = writtenAt.getTime() + requiredDays * DAY_MS;
  if (until < needed || until <= writtenAt.getTime()) {
    return `is retained only until ${new Date(until).toISOString()}, less than the ${requiredDays} days from its write (${writtenAt.toISOString()}) custody requires`;
  }
  return undefined;
}
