// Goal: keep the code's shape honest (TigerBeetle's tidy.zig): imports point one way
// (cli → coordinator → node → proto), core folders stay pure, node/ and coordinator/ read the
// time and set timers only through the Clock port, no test is focused with .only, and files
// stay within their size budgets.
// Method: read every source file and check its import specifiers and text.

import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const SOURCE_ROOTS = ["proto", "node", "coordinator", "cli", "scripts"];
const LAYER = {
  proto: 0,
  node: 1,
  coordinator: 2,
  cli: 3,
  scripts: 4,
  test: 4,
} as const;

function walk(dir: string): string[] {
  let files: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== "generated" && name !== "node_modules") files = files.concat(walk(full));
    } else if (name.endsWith(".ts")) files.push(full);
  }
  return files;
}

function sources(): string[] {
  return SOURCE_ROOTS.flatMap((root) => {
    try {
      return walk(root);
    } catch {
      return [];
    }
  });
}

function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+["']([^"']+)["']/g)].map(
    (match) => match[1] ?? "",
  );
}

function layerOf(file: string): number {
  const top = file.split(path.sep)[0] as keyof typeof LAYER;
  return LAYER[top];
}

const CORE_BANNED = [
  /Date\.now\(/,
  /Math\.random\(/,
  /performance\.now\(/,
  /setTimeout\(/,
  /setInterval\(/,
  /\bprocess\./,
  /\bconsole\./,
];

/** Time and timers outside the Clock port: the simulation could not run such code. */
const CLOCK_BANNED = [
  /Date\.now\(/,
  /performance\.now\(/,
  /setTimeout\(/,
  /setInterval\(/,
  /setImmediate\(/,
];

/** Files of node/ and coordinator/ allowed to use them. */
const CLOCK_EXCEPTIONS = new Set([
  // The system clock itself: the only one.
  path.join("node", "clock.ts"),
]);

describe("tidy", () => {
  const files = sources();

  it("finds the sources", () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it.each(files)("%s imports only its own layer or lower ones", (file) => {
    const text = readFileSync(file, "utf8");
    for (const specifier of importsOf(text)) {
      if (!specifier.startsWith(".")) continue;
      const target = path.normalize(path.join(path.dirname(file), specifier));
      expect(layerOf(target), `${file} imports ${specifier}`).toBeLessThanOrEqual(layerOf(file));
      expect(specifier, `${file}: relative imports carry .js`).toMatch(/\.m?js$/);
    }
  });

  const cores = files.filter((file) => file.split(path.sep).includes("core"));

  it.each(cores)("%s is pure: no IO, clock, randomness or process", (file) => {
    const text = readFileSync(file, "utf8");
    for (const specifier of importsOf(text)) {
      const allowed =
        specifier === "node:crypto" ||
        (specifier.startsWith(".") &&
          path
            .normalize(path.join(path.dirname(file), specifier))
            .split(path.sep)
            .includes("core"));
      expect(allowed, `${file} imports ${specifier}`).toBe(true);
    }
    for (const pattern of CORE_BANNED) expect(text, `${file} uses ${pattern}`).not.toMatch(pattern);
  });

  const clocked = files.filter(
    (file) =>
      ["node", "coordinator"].includes(file.split(path.sep)[0] ?? "") &&
      !CLOCK_EXCEPTIONS.has(file),
  );

  it.each(clocked)("%s reads time and sets timers only through the Clock port", (file) => {
    const text = readFileSync(file, "utf8");
    for (const pattern of CLOCK_BANNED)
      expect(text, `${file} uses ${pattern}`).not.toMatch(pattern);
  });

  it.each(files)("%s stays within its size budget", (file) => {
    const lines = readFileSync(file, "utf8").split("\n").length;
    // STYLE.md: core files about 300 lines, others about 500.
    const budget = file.split(path.sep).includes("core") ? 300 : 500;
    expect(lines, `${file} has ${lines} lines`).toBeLessThanOrEqual(budget);
  });

  it("has no focused tests", () => {
    const tests = walk("test");
    for (const file of tests) {
      if (file.endsWith("tidy.test.ts")) continue;
      expect(readFileSync(file, "utf8"), file).not.toMatch(/\b(it|test|describe)\.only\(/);
    }
  });
});
