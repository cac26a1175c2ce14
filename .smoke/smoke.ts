import { writeFileSync } from "node:fs";
import { startEmulator } from "/work/wt/workflow/scripts/emulator";
import { seedLandingZone } from "/work/wt/workflow/scripts/emulator/seed";
(async () => {
  const e = await startEmulator();
  process.env.AWS_ENDPOINT_URL = e.endpoint; process.env.AWS_ACCESS_KEY_ID = "t"; process.env.AWS_SECRET_ACCESS_KEY = "t"; process.env.AWS_REGION="us-east-1";
  const lz = await seedLandingZone();
  writeFileSync("/tmp/wf/lz-emu.json", JSON.stringify(lz));
  console.log(e.endpoint);
  await new Promise((r) => process.once("SIGTERM", r));
  await e.stop();
})();
