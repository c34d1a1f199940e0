// Running the root-only Linux networking commands of the netns scripts (ip, iptables, tc): each
// is printed with a timestamp before it runs, so an operator can replay or undo it by hand.

import { execFileSync } from "node:child_process";
import { say } from "./lib/fault-cluster.js";

/**
 * The names and addresses of one netns cluster. Slot 0 is the documented layout (testing.md §5):
 * bridge dkvbr0 at 10.77.0.254/24, node i in namespace dkv-n<i> at 10.77.0.<i> on veth
 * dkvv<i> (bridge side dkvv<i>b). Slot k uses dkvbr<k>, dkv<k>-n<i>, dkv<k>v<i> and 10.77.<k>.x,
 * so that several clusters (a test run next to an operator's cluster) never collide.
 */
export interface NetnsLayout {
  readonly slot: number;
  readonly bridge: string;
  readonly bridgeIp: string;
  readonly subnet: string;
  node(index: number): { namespace: string; veth: string; bridgeSide: string; ip: string };
}

/** The layout of a slot (0-250); interface names stay within Linux's 15 characters. */
export function netnsLayout(slot = 0): NetnsLayout {
  if (!Number.isInteger(slot) || slot < 0 || slot > 250) {
    throw new Error(`--slot must be an integer from 0 to 250, got ${slot}`);
  }
  const tag = slot === 0 ? "" : String(slot);
  const subnet = `10.77.${slot}`;
  return {
    slot,
    bridge: `dkvbr${slot}`,
    bridgeIp: `${subnet}.254`,
    subnet,
    node: (index) => ({
      namespace: `dkv${tag}-n${index}`,
      veth: `dkv${tag}v${index}`,
      bridgeSide: `dkv${tag}v${index}b`,
      ip: `${subnet}.${index}`,
    }),
  };
}

/** Our iptables chain inside each namespace, hooked into INPUT, so heal flushes only ours. */
export const FAULT_CHAIN = "DKV-FAULT";

/** The outcome of a command run with allowFailure. */
export interface CommandResult {
  readonly ok: boolean;
  readonly output: string;
}

/**
 * Runs a command, printing it first. Throws with its stderr when it fails, unless
 * allowFailure (then the failure is returned, for idempotent teardown steps).
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { readonly allowFailure?: boolean; readonly quiet?: boolean } = {},
): CommandResult {
  if (options.quiet !== true) say(`$ ${command} ${args.join(" ")}`);
  try {
    const output = execFileSync(command, [...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { ok: true, output };
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    if (options.allowFailure === true) return { ok: false, output: stderr };
    throw new Error(`${command} ${args.join(" ")} failed: ${stderr || String(error)}`);
  }
}

/** Runs a command inside a network namespace (`ip netns exec NS ...`). */
export function inNamespace(
  namespace: string,
  command: string,
  args: readonly string[],
  options: { readonly allowFailure?: boolean; readonly quiet?: boolean } = {},
): CommandResult {
  return runCommand("ip", ["netns", "exec", namespace, command, ...args], options);
}

/** Throws a clear message unless this process is root and `ip netns` works. */
export function requireNetnsSupport(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("network namespaces, iptables and tc need root: run this with sudo");
  }
  const probe = runCommand("ip", ["netns", "list"], { allowFailure: true, quiet: true });
  if (!probe.ok) throw new Error(`\`ip netns\` is unavailable: ${probe.output}`);
}
