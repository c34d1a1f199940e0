// How the client commands print siblings, readable or as JSON.

import type { SiblingReply } from "../coordinator/client.js";
import { formatContext } from "./client-options.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The value as text when it is valid UTF-8, else undefined. */
function asText(value: Uint8Array): string | undefined {
  try {
    return utf8.decode(value);
  } catch {
    return undefined;
  }
}

/** A sibling as a plain JSON object: value as text when it is UTF-8, always as base64. */
export function siblingJson(sibling: SiblingReply): Record<string, unknown> {
  return {
    value: asText(sibling.value) ?? null,
    value_base64: Buffer.from(sibling.value).toString("base64"),
    content_type: sibling.content_type,
    metadata: sibling.metadata,
    vtag: sibling.vtag,
    last_modified_ms: sibling.last_modified_ms,
    deleted: sibling.deleted,
  };
}

/** Readable lines for a list of siblings. */
export function siblingLines(siblings: readonly SiblingReply[]): string[] {
  const lines: string[] = [];
  siblings.forEach((sibling, index) => {
    const when = new Date(sibling.last_modified_ms).toISOString();
    const kind = sibling.deleted ? "  (deleted)" : "";
    lines.push(
      `sibling ${index + 1}/${siblings.length}  vtag ${sibling.vtag}  ${sibling.content_type || "-"}  ${when}${kind}`,
    );
    for (const [name, value] of Object.entries(sibling.metadata))
      lines.push(`  meta ${name}: ${value}`);
    const text = asText(sibling.value);
    lines.push(
      text === undefined
        ? `  (binary, base64) ${Buffer.from(sibling.value).toString("base64")}`
        : `  ${text}`,
    );
  });
  return lines;
}

/** The JSON of a context. */
export function contextJson(context: Uint8Array): string {
  return formatContext(context);
}
