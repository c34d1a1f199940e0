// Whole-file writes that survive a crash at any point: the file is always one complete version,
// the old or the new, never a torn mix (tmp, fsync, rename, fsync of the directory); and the
// read of such a file that may not exist yet.

import { open, readFile, rename } from "node:fs/promises";
import path from "node:path";

/**
 * Writes `data` to `file` as tmp, fsync, rename, fsync of the directory. With `mode` the file
 * has that mode before any byte is written (a private key is never readable by others).
 */
export async function writeFileDurably(
  file: string,
  data: string | Uint8Array,
  mode?: number,
): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, "w", mode);
  try {
    // A tmp file left by a crash keeps its old mode through open(): set it again.
    if (mode !== undefined) await handle.chmod(mode);
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

/** The bytes of `file`, or undefined when there is no such file; other errors throw. */
export async function readFileIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
