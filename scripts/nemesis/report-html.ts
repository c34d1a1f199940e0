// The HTML report of a nemesis run: one self-contained file (inline SVG and CSS, no script, no
// network) with the latency of every operation over time coloured by outcome, the fault
// windows shaded, the verdict and the checker's counts.

import type { CheckResult } from "./core/checker.js";
import type { ReadRecord, WriteRecord } from "./core/history.js";
import { FAILING_FINDINGS, type Finding } from "./core/observations.js";
import { runVerdict, type RunFacts } from "./report-table.js";

const WIDTH = 1100;
const HEIGHT = 460;
const MARGIN = { left: 60, right: 20, top: 44, bottom: 40 };
const COLOURS = { ok: "#2a9d8f", fail: "#e63946", indeterminate: "#f4a000" } as const;

/** The report as one HTML document. */
export function htmlReport(
  check: CheckResult,
  facts: RunFacts,
  operations: { readonly reads: readonly ReadRecord[]; readonly writes: readonly WriteRecord[] },
): string {
  const verdict = runVerdict(check, facts) ? "PASS" : "FAIL";
  const title = `dkv nemesis, seed ${facts.seed}${facts.lww ? " (LWW control)" : ""}: ${verdict}`;
  const rows = (Object.keys(check.counts) as Finding[])
    .map((finding) => {
      const count = check.counts[finding];
      const bad = count > 0 && FAILING_FINDINGS.has(finding);
      return `<tr class="${bad ? "bad" : ""}"><td>${finding}</td><td>${count}</td></tr>`;
    })
    .join("");
  const examples = check.examples.map((line) => `<li>${escapeHtml(line)}</li>`).join("");
  const faults = facts.faults
    .map(
      (fault) =>
        `<li>${(fault.startMs / 1000).toFixed(1)}–${(fault.endMs / 1000).toFixed(1)} s: ${escapeHtml(fault.description)}</li>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px} .PASS{color:${COLOURS.ok}} .FAIL{color:${COLOURS.fail}}
table{border-collapse:collapse;margin:8px 0} td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
tr.bad td{background:#fde2e4} svg{border:1px solid #ddd}
</style></head><body>
<h1>${escapeHtml(title.replace(/: (PASS|FAIL)$/, ""))}: <span class="${verdict}">${verdict}</span></h1>
<p>Set resolution: ${facts.lww ? "last-write-wins (control)" : "union of siblings"}.
Writes ok/fail/indeterminate: ${check.writes.ok}/${check.writes.fail}/${check.writes.indeterminate};
reads ${check.reads.ok}/${check.reads.fail}/${check.reads.indeterminate}.
Set elements acknowledged ${check.elements.acknowledged}, lost ${check.elements.lost}.
Convergence after the heal: ${check.converged ? `${check.convergenceMs} ms` : `not within ${check.convergenceMs} ms`}.</p>
${latencyChart(operations, facts)}
<h2>Invariants</h2><table><tr><th>finding</th><th>count</th></tr>${rows}</table>
${examples === "" ? "" : `<h2>Examples</h2><ul>${examples}</ul>`}
<h2>Faults</h2><ul>${faults || "<li>none</li>"}</ul>
${membershipSection(facts)}
${facts.unavailable.length > 0 ? `<p>Not injected: ${facts.unavailable.map(escapeHtml).join("; ")}</p>` : ""}
</body></html>
`;
}

/** The membership steps of a --membership run, with their times; empty otherwise. */
function membershipSection(facts: RunFacts): string {
  const membership = facts.membership;
  if (membership === undefined) return "";
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  const steps = membership.steps
    .map(
      (step) =>
        `<li>${seconds(step.startMs)} s: ${escapeHtml(step.description)}: ` +
        (step.error === undefined
          ? `every member on layout v${step.version} after ${seconds(step.durationMs)} s`
          : `<b>FAILED</b> ${escapeHtml(step.error)}`) +
        "</li>",
    )
    .join("");
  const copies =
    membership.shortOfCopies.length === 0
      ? `Every key has ${membership.n} copies on its primaries.`
      : `<b>Fewer than ${membership.n} copies</b>: ${escapeHtml(membership.shortOfCopies.join("; "))}`;
  return `<h2>Membership</h2><ul>${steps}</ul><p>${copies}</p>`;
}

/** Latency (log scale) against start time; writes filled, reads hollow; faults shaded. */
function latencyChart(
  operations: { readonly reads: readonly ReadRecord[]; readonly writes: readonly WriteRecord[] },
  facts: RunFacts,
): string {
  const all = [...operations.reads, ...operations.writes];
  let endMs = Math.max(facts.durationMs, 1);
  let latencyMaxMs = 10;
  for (const op of all) {
    endMs = Math.max(endMs, op.completeMs);
    latencyMaxMs = Math.max(latencyMaxMs, op.completeMs - op.invokeMs);
  }
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (ms: number): number => MARGIN.left + (ms / endMs) * plotWidth;
  const logMin = Math.log10(0.5);
  const logMax = Math.log10(latencyMaxMs * 1.2);
  const y = (latencyMs: number): number => {
    const clamped = Math.log10(Math.max(0.5, latencyMs));
    return MARGIN.top + plotHeight * (1 - (clamped - logMin) / (logMax - logMin));
  };
  const parts: string[] = [];
  const steps = (facts.membership?.steps ?? []).map((step) => ({
    startMs: step.startMs,
    endMs: step.startMs + step.durationMs,
    description: step.description,
  }));
  for (const [index, fault] of [...facts.faults, ...steps].entries()) {
    const left = x(fault.startMs);
    // Labels alternate between two rows so that long ones do not run into the next.
    const labelY = MARGIN.top - 6 - (index % 2) * 14;
    const width = Math.max(1, x(fault.endMs) - left);
    parts.push(
      `<rect x="${left.toFixed(1)}" y="${MARGIN.top}" width="${width.toFixed(1)}" height="${plotHeight}" fill="#000" fill-opacity="0.08"><title>${escapeHtml(fault.description)}</title></rect>`,
      `<text x="${(left + 3).toFixed(1)}" y="${labelY}" font-size="11">${escapeHtml(fault.description)}</text>`,
    );
  }
  for (let decade = Math.ceil(logMin); decade <= logMax; decade++) {
    const at = y(10 ** decade);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${at.toFixed(1)}" y2="${at.toFixed(1)}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 6}" y="${(at + 4).toFixed(1)}" font-size="11" text-anchor="end">${10 ** decade} ms</text>`,
    );
  }
  const stepS = Math.max(1, Math.ceil(endMs / 1000 / 12));
  for (let seconds = 0; seconds * 1000 <= endMs; seconds += stepS) {
    parts.push(
      `<text x="${x(seconds * 1000).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" font-size="11" text-anchor="middle">${seconds} s</text>`,
    );
  }
  const point = (op: ReadRecord | WriteRecord, filled: boolean): string => {
    const colour = COLOURS[op.outcome];
    const paint = filled ? `fill="${colour}"` : `fill="none" stroke="${colour}"`;
    return `<circle cx="${x(op.invokeMs).toFixed(1)}" cy="${y(op.completeMs - op.invokeMs).toFixed(1)}" r="1.6" ${paint}/>`;
  };
  for (const read of operations.reads) parts.push(point(read, false));
  for (const write of operations.writes) parts.push(point(write, true));
  const legend = (["ok", "fail", "indeterminate"] as const)
    .map(
      (outcome, index) =>
        `<circle cx="${MARGIN.left + 10 + index * 120}" cy="${HEIGHT - 10}" r="4" fill="${COLOURS[outcome]}"/><text x="${MARGIN.left + 18 + index * 120}" y="${HEIGHT - 6}" font-size="12">${outcome}</text>`,
    )
    .join("");
  const note = `<text x="${MARGIN.left + 380}" y="${HEIGHT - 6}" font-size="12">filled: writes, hollow: reads; x: start time, y: latency (log); shaded: faults${steps.length > 0 ? " and membership steps" : ""}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">${parts.join("")}${legend}${note}</svg>`;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
