/**
 * The emulator of a benchmark: started on a free loopback port (with time to spare on a loaded machine), and the
 * process's SDK environment pointed at it with dummy credentials, as the tests do (test/support/emulator.ts).
 */
import { startEmulator, type Emulator } from "../../scripts/emulator";

/** Starts the emulator and points this process's AWS SDK at it. */
export async function benchEmulator(): Promise<Emulator> {
  const emulator = await startEmulator({ startTimeoutMs: 180000 });
  process.env.AWS_ENDPOINT_URL = emulator.endpoint;
  process.env.AWS_ACCESS_KEY_ID = "testing";
  process.env.AWS_SECRET_ACCESS_KEY = "testing";
  process.env.AWS_REGION = "us-east-1";
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  return emulator;
}
