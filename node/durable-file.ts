// Whole-file writes that survive a crash at any point: the file is always one complete version,
// the old or the new, never a torn mix (tmp, fsync, rename, fsync of the directory).

import { open, rename } from "node:fs/promises";
import path from "node:path";

/** Writes `data` to `file` as tmp, fsync, rename, fsync of the directory. */
export async function writeFileDurably(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, "w");
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  const dir = await open(path.dirname(file), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
