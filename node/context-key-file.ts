// Reads the cluster key file: the secrets client contexts are sealed with (node/core/
// key-context.ts). One key per line, hex or base64, at least 128 bits; blank lines and lines
// starting with # are ignored. The first key seals, every key opens (rotation).

import { readFileSync, statSync } from "node:fs";
import { type ContextKeys, contextKeysOf } from "./core/key-context.js";

/** Parses the text of a key file; a reason naming the line when it is not one. */
export function parseContextKeyFile(
  text: string,
):
  | { readonly ok: true; readonly keys: ContextKeys }
  | { readonly ok: false; readonly reason: string } {
  const secrets: Uint8Array[] = [];
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const secret = decodeSecret(line);
    if (secret === undefined) {
      return { ok: false, reason: `line ${index + 1} is neither hex nor base64` };
    }
    secrets.push(secret);
  }
  return contextKeysOf(secrets);
}

function decodeSecret(line: string): Uint8Array | undefined {
  if (/^(?:[0-9a-fA-F]{2})+$/.test(line)) return Buffer.from(line, "hex");
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(line)) return Buffer.from(line, "base64");
  return undefined;
}

/**
 * Loads the key file at `file`; throws an Error naming the file and what is wrong. A file that
 * others can read is refused: whoever reads it can forge contexts.
 */
export function loadContextKeyFile(file: string): ContextKeys {
  let text: string;
  try {
    const mode = statSync(file).mode;
    if ((mode & 0o077) !== 0) {
      throw new Error(`is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
    }
    text = readFileSync(file, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cluster key file ${file}: ${reason}`);
  }
  const parsed = parseContextKeyFile(text);
  if (!parsed.ok) throw new Error(`cluster key file ${file}: ${parsed.reason}`);
  return parsed.keys;
}
