// Goal: the Node.js flags a node runs with are passed by every way dkv starts one, and a missing
// one is found (dkv serve warns of it; test/integration/serve-limits.test.ts sees the warning).

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { NODE_PROCESS_FLAGS, missingNodeFlags } from "../../../cli/node-flags.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

describe("missingNodeFlags", () => {
  it("finds none when every flag is given, among others", () => {
    expect(missingNodeFlags(["--enable-source-maps", ...NODE_PROCESS_FLAGS])).toEqual([]);
  });

  it("names each flag not given", () => {
    expect(missingNodeFlags([])).toEqual([...NODE_PROCESS_FLAGS]);
    expect(missingNodeFlags(["--no-memory-reducer"])).toEqual(["--heap-growing-percent=100"]);
  });

  it("takes a flag given with another value or V8's underscores as the operator's choice", () => {
    expect(missingNodeFlags(["--no_memory_reducer", "--heap-growing-percent=50"])).toEqual([]);
    expect(missingNodeFlags(["--heap_growing_percent=200", "--no-memory-reducer"])).toEqual([]);
  });
});

describe("the installed dkv command", () => {
  it("starts Node.js with exactly these flags (its first line)", () => {
    const first = readFileSync(path.join(root, "cli/main.ts"), "utf8").split("\n")[0];
    expect(first).toBe(`#!/usr/bin/env -S node ${NODE_PROCESS_FLAGS.join(" ")}`);
  });
});
