/**
 * Emulator lifecycle for integration tests: one `moto_server` per test process on a free loopback port, started on
 * first use, reset before every test of a suite that calls {@link useEmulator}, stopped when mocha finishes.
 * Points the SDK at it through `AWS_ENDPOINT_URL` and gives it dummy credentials (the emulator's default account).
 */
import { startEmulator, type Emulator } from "../../scripts/emulator";

let shared: Promise<Emulator> | undefined;

/** The process's emulator, started on first call. */
export function emulator(): Promise<Emulator> {
  if (!shared) {
    shared = startEmulator().then((e) => {
      process.env.AWS_ENDPOINT_URL = e.endpoint;
      process.env.AWS_ACCESS_KEY_ID = "testing";
      process.env.AWS_SECRET_ACCESS_KEY = "testing";
      process.env.AWS_REGION = process.env.AWS_REGION ?? "us-east-1";
      delete process.env.AWS_PROFILE;
      delete process.env.AWS_SESSION_TOKEN;
      return e;
    });
  }
  return shared;
}

/** Mocha hooks for a suite that talks to the emulator: start it once, reset its state before each test. */
export function useEmulator(): { endpoint(): string } {
  let current: Emulator | undefined;
  before(async function () {
    this.timeout(150000); // the emulator's own start timeout is 120 s (scripts/emulator/index.ts)
    current = await emulator();
  });
  beforeEach(async () => {
    await current?.reset();
  });
  return {
    endpoint() {
      if (!current) throw new Error("emulator not started: call useEmulator() inside a describe block");
      return current.endpoint;
    },
  };
}

/** Root hook: stop the emulator after all tests. */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    if (shared) await (await shared).stop();
  },
};
