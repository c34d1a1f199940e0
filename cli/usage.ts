// Usage errors of the dkv command and small argument checks shared by the commands.

/** A mistake in how the command was called; exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** True for host:port with a port from 0 to 65535 (IPv6 hosts in brackets). */
export function isHostPort(text: string): boolean {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  return match !== null && Number(match[2]) <= 65535;
}

/**
 * True when `hostPort`'s host is a loopback address (127.0.0.0/8, ::1, localhost): reachable
 * only from the machine itself.
 */
export function isLoopbackHostPort(hostPort: string): boolean {
  const host = hostPort.slice(0, hostPort.lastIndexOf(":")).replace(/^\[(.*)\]$/, "$1");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `value` of flag `--name` when it is a number from 0 to `max`; else a UsageError naming it. */
export function nonNegativeArg(
  name: string,
  value: number,
  max: number = Number.POSITIVE_INFINITY,
): number {
  if (!(Number.isFinite(value) && value >= 0 && value <= max)) {
    const range = max === Number.POSITIVE_INFINITY ? ">= 0" : `from 0 to ${max}`;
    throw new UsageError(`--${name} must be a number ${range}, got ${value}`);
  }
  return value;
}

/** `value` of flag `--name` when it is a whole number of at least 1; else a UsageError. */
export function positiveIntegerArg(name: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new UsageError(`--${name} must be a whole number >= 1, got ${value}`);
  }
  return value;
}
