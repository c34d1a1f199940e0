// Progress of the long phases of `dkv bench` (preload, each run) on stderr, so that stdout
// stays clean for --json: a cli-progress bar on a terminal, a plain line every few seconds
// otherwise (logs and CI have no use for carriage returns).

import cliProgress from "cli-progress";

/** One phase's progress display. */
export interface Progress {
  /** The phase reached `value` of its total; `note` is shown beside it. */
  update(value: number, note: string): void;
  /** Ends the display (prints a last plain line off a terminal). */
  stop(): void;
}

/** How often a plain line is printed off a terminal. */
const PLAIN_LINE_INTERVAL_MS = 5000;

/** Starts a progress display of `total` units on stderr. */
export function startProgress(label: string, total: number, unit: string): Progress {
  const stream = process.stderr;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {value}/{total} ${unit}  {note}`,
        barsize: 30,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { note: "" });
    return {
      update: (value, note) => bar.update(Math.min(value, total), { note }),
      stop: () => bar.stop(),
    };
  }
  let lastLineMs = Date.now();
  let last = { value: 0, note: "" };
  stream.write(`${label}: 0/${total} ${unit}\n`);
  const line = (): void => {
    stream.write(
      `${label}: ${last.value}/${total} ${unit}${last.note === "" ? "" : `  ${last.note}`}\n`,
    );
  };
  return {
    update: (value, note) => {
      last = { value: Math.min(value, total), note };
      if (Date.now() - lastLineMs >= PLAIN_LINE_INTERVAL_MS) {
        lastLineMs = Date.now();
        line();
      }
    },
    stop: line,
  };
}
