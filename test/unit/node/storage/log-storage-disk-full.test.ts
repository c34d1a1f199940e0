// A real full disk: the log engine on a 2 MiB tmpfs. Writes fail with ENOSPC in the message,
// reads go on, and once space is freed writes work again and a reopen finds nothing corrupt.
// Mounting needs root; without it the test is skipped and says why.

import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogStorage } from "../../../../node/storage/log-storage.js";
import { bytes, hex, mountSmallTmpfs, openLog, type SmallTmpfs } from "./storage-test-helpers.js";

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)(
  "log storage on a full disk (tmpfs; skipped unless running as root)",
  () => {
    let tmpfs: SmallTmpfs;

    beforeAll(async () => {
      tmpfs = await mountSmallTmpfs("dkv-disk-full-", "2m");
    });

    afterAll(async () => {
      await tmpfs.unmount();
    });

    it("fails writes with ENOSPC, keeps serving reads and recovers cleanly once space is freed", async (context) => {
      if (!tmpfs.mounted) context.skip(`cannot mount tmpfs: ${tmpfs.mountError}`);
      const dataDir = path.join(tmpfs.mountPoint, "data");
      let storage: LogStorage = await openLog(dataDir, { segmentBytesMax: 256 * 1024 });
      try {
        for (let i = 0; i < 10; i += 1)
          await storage.put("b", bytes(`k${i}`), bytes(`v${i}`), { durable: true });
        const filler = path.join(tmpfs.mountPoint, "filler");
        await fillDisk(filler);
        let failure: unknown;
        for (let i = 0; i < 200 && failure === undefined; i += 1) {
          await storage
            .put("b", bytes("k0"), new Uint8Array(10_000).fill(i), { durable: true })
            .catch((error: unknown) => {
              failure = error;
            });
        }
        expect(String(failure)).toMatch(/storage write failed: ENOSPC: no space left on device/);
        const k0 = await storage.get("b", bytes("k0"));
        expect(k0).toBeDefined();
        for (let i = 1; i < 10; i += 1)
          expect(hex(await storage.get("b", bytes(`k${i}`)))).toBe(hex(bytes(`v${i}`)));
        await fs.rm(filler);
        await storage.put("b", bytes("after"), bytes("space freed"), { durable: true });
        await storage.close();
        storage = await openLog(dataDir);
        expect(storage.stats().corruptRecords).toBe(0);
        expect(hex(await storage.get("b", bytes("k0")))).toBe(hex(k0));
        expect(hex(await storage.get("b", bytes("after")))).toBe(hex(bytes("space freed")));
        expect(storage.stats().keys).toBe(11);
      } finally {
        await storage.close();
      }
    });
  },
);

/** Writes a file until the file system is full. */
async function fillDisk(file: string): Promise<void> {
  const handle = await fs.open(file, "w");
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    await handle.close();
  }
}
