// The block pool's signalling through shared memory (scripts/hash/snapshot-pool.ts): every verification answers for
// its own slot with that slot's digest, the image digest reads blocks and zero runs in the order given, and the last
// digest arrives in a process that has nothing else keeping its event loop alive (Atomics.waitAsync alone does not).
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import { BlockPool } from "../../../scripts/hash/snapshot-pool";

const BLOCK = 64 * 1024;

describe("snapshot block pool (shared-memory signalling)", () => {
  it("verifies many slots at once, each against its own bytes, and digests blocks and zeros in order", async () => {
    const slots = 16;
    const pool = new BlockPool(slots, BLOCK);
    const image = pool.imageOnWorker(() => undefined);
    const expected = createHash("sha256");
    try {
      for (let round = 0; round < 5; round++) {
        const blocks = Array.from({ length: slots }, () => randomBytes(BLOCK));
        blocks.forEach((b, i) => pool.slot(round * slots + i).set(b));
        // All verifications in flight together, answered in whatever order the worker finishes them.
        const digests = await Promise.all(
          blocks.map(async (_b, i) => Buffer.from(await pool.verify(round * slots + i)).toString("hex")),
        );
        expect(digests).to.deep.equal(blocks.map((b) => createHash("sha256").update(b).digest("hex")));
        for (let i = 0; i < slots; i++) {
          image.zeros(i % 3 === 0 ? 1000 * (i + 1) : 0);
          if (i % 3 === 0) expected.update(Buffer.alloc(1000 * (i + 1)));
          image.block(round * slots + i, blocks[i]);
          expected.update(blocks[i]);
        }
        // The slots are reused next round only once the image digest has read them all.
        while (image.freed < (round + 1) * slots) await new Promise((r) => setTimeout(r, 1));
      }
      image.zeros(3 * BLOCK + 7);
      expected.update(Buffer.alloc(3 * BLOCK + 7));
      expect(await image.digest()).to.equal(expected.digest("hex"));
    } finally {
      await pool.close();
    }
  });

  it("delivers the last digest to a process whose event loop holds nothing else", () => {
    const script = `
      const { BlockPool } = require(${JSON.stringify(path.resolve(__dirname, "../../../scripts/hash/snapshot-pool"))});
      const { createHash } = require("node:crypto");
      const pool = new BlockPool(4, ${BLOCK});
      const image = pool.imageOnWorker(() => undefined);
      pool.slot(0).fill(7);
      image.block(0, pool.slot(0));
      image.zeros(${BLOCK});
      image.digest().then(async (hex) => {
        const want = createHash("sha256").update(Buffer.alloc(${BLOCK}, 7)).update(Buffer.alloc(${BLOCK})).digest("hex");
        await pool.close();
        process.stdout.write(hex === want ? "ok" : "wrong " + hex);
      });
    `;
    const run = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.stderr).to.equal("");
    expect(run.stdout).to.equal("ok");
  });
});
