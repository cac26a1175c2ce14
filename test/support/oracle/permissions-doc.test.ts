/**
 * `docs/permissions.md` is generated from the authorization oracle's records of the permission tour (every command
 * against the emulator), and least privilege is measured: every grant of the landing zone's roles that no command
 * uses is either removed from its document or kept with a reason.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { problemsOf, type CallRecord } from "../../../scripts/oracle";
import {
  UNUSED_GRANT_REASONS,
  reasonFor,
  renderPermissions,
  roleGrants,
  unusedGrants,
} from "../../../scripts/oracle/permissions-doc";
import { permissionTour, TOUR_COVERS } from "../../../scripts/oracle/tour";
import type { OracleWorld } from "../../../scripts/oracle/world";

const DOC = path.resolve(__dirname, "../../../docs/permissions.md");

describe("docs/permissions.md: the permissions every command uses, measured", function () {
  this.timeout(600000);
  let world: OracleWorld;
  let records: CallRecord[];

  before(async () => {
    ({ world, records } = await permissionTour());
  });

  it("the tour made only calls AWS would authorize, as every command it ran", () => {
    expect(problemsOf(records)).to.deep.equal([]);
    const labels = new Set(records.filter((r) => r.principal).map((r) => r.call.label));
    for (const command of [
      "flz case open",
      "flz contain sessions",
      "flz contain access-key",
      "flz contain instance",
      "flz capture",
      "flz hash",
      "flz evidence put",
      "flz custody verify",
      "flz clock",
      "flz contain undo",
    ])
      expect(labels.has(command), `${command} in the tour`).to.equal(true);
  });

  it("is up to date (regenerate with: npm run permissions-doc)", () => {
    expect(readFileSync(DOC, "utf8"), "docs/permissions.md is stale: run npm run permissions-doc").to.equal(
      renderPermissions(world, records, TOUR_COVERS),
    );
  });

  it("every grant no command uses is justified, and every justification is for a grant that exists and is unused", () => {
    const unused = unusedGrants(world, records);
    expect(
      unused.filter((g) => reasonFor(g) === undefined).map((g) => `${g.role} ${g.sid} ${g.action}`),
      "unused and unjustified: remove them from the document",
    ).to.deep.equal([]);
    const grants = roleGrants(world);
    for (const key of Object.keys(UNUSED_GRANT_REASONS)) {
      const [role, sid, action] = key.split("|");
      const covered = unused.filter(
        (g) => g.role === role && (sid === "*" || g.sid === sid) && (action === "*" || g.action === action),
      );
      expect(
        covered,
        `${key}: a reason for a grant that is used or no longer exists (of ${grants.length} grants)`,
      ).to.not.deep.equal([]);
    }
  });
});
