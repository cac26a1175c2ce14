/**
 * `npm run permissions-doc`: runs the permission tour and writes `docs/permissions.md`.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { renderPermissions } from "./permissions-doc";
import { permissionTour, TOUR_COVERS } from "./tour";

async function main(): Promise<void> {
  const { world, records } = await permissionTour();
  const file = path.resolve(__dirname, "../../docs/permissions.md");
  writeFileSync(file, renderPermissions(world, records, TOUR_COVERS));
  process.stderr.write(`wrote ${file} from ${records.length} recorded calls\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`permissions-doc: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
