/**
 * Loopback ports for processes that bind them later: devnet gateways, test brokers.
 *
 * A port the kernel hands out for port 0 comes from the ephemeral range (net.ipv4.ip_local_port_range,
 * 32768-60999 on Linux by default), the range every other bind(0) and every outgoing connect() on the
 * machine draws from. Between picking such a port and the gateway binding it (up to seconds, and again
 * while a crashed gateway restarts), any socket may take it, and the gateway then cannot start. A CI run most
 * likely lost a validator that way: its API answered ECONNREFUSED for the whole test (its log was not kept).
 *
 * So freePort picks at random *below* the ephemeral range, where the kernel never allocates by itself,
 * checks that the port binds on 127.0.0.1, and leases it for LEASE_MS with a file created with O_EXCL in
 * os.tmpdir()/iosnet-ports, so that other processes calling freePort (parallel test workers, a devnet) skip
 * it. A lease left by a killed process expires; nothing else needs cleaning up.
 */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Longer than any test file or devnet start-up: a lease is only a guard against the other pickers. */
export const LEASE_MS = 30 * 60_000;

/** The lowest port freePort picks (below: ports that services commonly take by default). */
export const PORT_FLOOR = 20_000;

export interface FreePortOptions {
  /** Lowest and highest port to pick from (inclusive); default PORT_FLOOR to just below the ephemeral range. */
  readonly low?: number;
  readonly high?: number;
  /** Where the leases are kept; default os.tmpdir()/iosnet-ports. */
  readonly leaseDir?: string;
}

/** The first port of the kernel's ephemeral range (32768 when it cannot be read). */
export function ephemeralLow(): number {
  try {
    const lo = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(lo) && lo > 1024 ? lo : 32_768;
  } catch {
    return 32_768;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.unref();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Takes the lease on `port`; false when another picker holds a live one. */
function lease(dir: string, port: number, now: number): boolean {
  const path = join(dir, String(port));
  try {
    closeSync(openSync(path, 'wx'));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  try {
    if (now - statSync(path).mtimeMs < LEASE_MS) return false;
    const t = new Date(now);
    utimesSync(path, t, t);
    return true;
  } catch {
    return false;
  }
}

/** A loopback port outside the ephemeral range that binds now and that no other freePort caller holds. */
export async function freePort(opts: FreePortOptions = {}): Promise<number> {
  const low = opts.low ?? PORT_FLOOR;
  const high = opts.high ?? Math.max(low, ephemeralLow() - 1);
  const dir = opts.leaseDir ?? join(tmpdir(), 'iosnet-ports');
  mkdirSync(dir, { recursive: true });
  const span = high - low + 1;
  // Random probes first (no two pickers walk the same sequence), then every port once in order.
  const tries = Math.min(span, 64);
  const start = Math.floor(Math.random() * span);
  for (let k = 0; k < span + tries; k++) {
    const port = k < tries ? low + Math.floor(Math.random() * span) : low + ((start + k - tries) % span);
    if (!(await canBind(port))) continue;
    if (lease(dir, port, Date.now())) return port;
  }
  throw new Error(`no free loopback port in ${low}-${high}`);
}
