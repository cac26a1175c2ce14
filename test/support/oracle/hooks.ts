/**
 * Runs every test under the authorization oracle (`scripts/oracle/`): every AWS call made through the client factory
 * while a test runs (its hooks included) is recorded, and when the test's own function has finished the recorded
 * calls are evaluated against the documents the stack deploys for the emulator's organisation. A call AWS would deny
 * fails that test, with the call, the principal and the deciding statement in the message.
 *
 * Why the check runs inside the test and not in an `afterEach` hook: a failing root-level hook makes mocha skip every
 * test after it, so one denied call would hide the rest of the suite; a failing test fails alone. `.mocharc.json`
 * requires this file, so it applies to every spec without any change to them.
 */
import type { Context, Done, Func, Test } from "mocha";
import {
  DENIAL_ADVICE,
  UNMODELED,
  emulatorWorld,
  installOracle,
  loadOracle,
  problemsOf,
  type AuthorizationOracle,
  type CallRecord,
} from "../../../scripts/oracle";

const loaded = loadOracle(emulatorWorld());
if ("unavailable" in loaded) throw new Error(loaded.unavailable);

/** The oracle of this test process. */
export const oracle: AuthorizationOracle = loaded.oracle;

/** Evaluates what was recorded so far and hands the records to the caller (a test about the oracle itself). */
export function takeRecords(): Promise<CallRecord[]> {
  return oracle.evaluatePending();
}

/** Throws when any call recorded since the last check would be refused on AWS. */
async function check(test: Test): Promise<void> {
  const problems = problemsOf(await oracle.evaluatePending());
  if (problems.length === 0) return;
  throw new Error(
    `authorization oracle: ${problems.length} AWS call(s) of "${test.fullTitle()}" would be refused on AWS ` +
      `(documents: scripts/oracle/world.ts, built with components/documents/). ${DENIAL_ADVICE}\n- ${problems.join("\n- ")}`,
  );
}

const wrapped = new WeakSet<Test>();
let uninstall: (() => void) | undefined;

/** Mocha root hooks. */
export const mochaHooks = {
  beforeAll(): void {
    uninstall = installOracle(oracle);
  },
  beforeEach(this: Context): void {
    const test = this.currentTest;
    const fn = test?.fn;
    if (!test || !fn || wrapped.has(test)) return;
    wrapped.add(test);
    // Keep the function's arity: mocha decided at construction whether the test takes `done`.
    if (fn.length === 0) {
      test.fn = async function (this: Context) {
        await (fn as (this: Context) => unknown).call(this);
        await check(test);
      };
    } else {
      test.fn = function (this: Context, done: Done) {
        (fn as Func).call(this, (err?: unknown) => {
          if (err) done(err);
          else check(test).then(() => done(), done);
        });
      };
    }
  },
  async afterAll(): Promise<void> {
    // Calls made by the last `after` hooks: evaluated too, so nothing recorded goes unchecked.
    const late = problemsOf(await oracle.evaluatePending());
    uninstall?.();
    const evaluated = oracle.records.filter((r) => r.principal !== undefined);
    const requests = evaluated.reduce((n, r) => n + r.decisions.length, 0);
    const outside = oracle.records.length - evaluated.length;
    // Roles the world does not hold are a gap of the oracle, not a pass: name them on every run.
    const unmodeled = [
      ...new Set(oracle.records.filter((r) => r.outside?.startsWith(UNMODELED)).map((r) => r.outside)),
    ];
    if (unmodeled.length > 0)
      console.error(
        `authorization oracle: calls not evaluated, by roles its world does not hold:\n  ${unmodeled.join("\n  ")}`,
      );
    if (process.env.FLZ_ORACLE_SUMMARY)
      console.error(
        `authorization oracle: ${evaluated.length} calls evaluated (${requests} requests), ${outside} calls by principals outside the landing zone`,
      );
    if (late.length > 0)
      throw new Error(`authorization oracle: calls made after the last test would be refused:\n- ${late.join("\n- ")}`);
  },
};
