/**
 * The devnet's gateway processes: each runs `iosnet gateway start` in its own process, with stdout and
 * stderr appended to DIR/<name>.log, and an IPC channel whose only job is to close when this process dies
 * (the gateway then stops itself: no orphans even if the devnet is killed with SIGKILL). Stopping is
 * SIGTERM by pid, then SIGKILL for any that did not exit within the timeout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DevnetNodeFiles } from './files.js';

export interface GatewayProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  readonly apiUrl: string;
  /** Set once the process has exited. */
  exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | null;
  readonly exited: Promise<void>;
  readonly child: ChildProcess;
}

/** bin/iosnet.js of this checkout (the gateway runs the same code as the devnet). */
export const IOSNET_BIN = fileURLToPath(new URL('../../bin/iosnet.js', import.meta.url));

/**
 * V8 flags every gateway this module starts runs with. A gateway allocates a short-lived object or two per
 * transaction in many places (decoding, mempool entries, state overlays): with Node's default 16 MiB
 * semi-space, scavenges took 12 % of a gateway's busy time in bench:chain; at 32 MiB throughput rose
 * ~10 % (1,757 -> 1,934 tx/s in back-to-back runs, docs/benchmarks.md). Operators starting
 * `iosnet gateway start` themselves set the same with NODE_OPTIONS=--max-semi-space-size=32 (docs/operator.md).
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

export function spawnGateway(
  node: DevnetNodeFiles,
  dir: string,
  onExit: (p: GatewayProcess) => void,
  extraArgs: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
  /** Flags for node itself (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
  nodeArgs: readonly string[] = [],
): GatewayProcess {
  const logPath = join(dir, `${node.name}.log`);
  const log = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [
        ...GATEWAY_NODE_FLAGS,
        ...nodeArgs,
        IOSNET_BIN,
        'gateway',
        'start',
        '--config',
        node.configPath,
        ...extraArgs,
      ],
      // Own process group: a Ctrl-C in the devnet's terminal reaches the devnet only, which takes its last look
      // at the gateways and then stops them by pid (the IPC channel still stops them if the devnet dies).
      { stdio: ['ignore', log, log, 'ipc'], env: { ...process.env, ...env }, detached: true },
    );
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) throw new Error(`could not start ${node.name}`);
  // The channel stays open for the child's sake; it must not keep the devnet itself alive.
  child.channel?.unref();
  child.on('error', () => {});
  let resolveExited!: () => void;
  const proc: GatewayProcess = {
    name: node.name,
    pid: child.pid,
    logPath,
    apiUrl: `http://127.0.0.1:${node.apiPort}`,
    exit: null,
    exited: new Promise<void>((r) => {
      resolveExited = r;
    }),
    child,
  };
  child.on('exit', (code, signal) => {
    proc.exit = { code, signal, at: Date.now() };
    resolveExited();
    onExit(proc);
  });
  return proc;
}

const timeout = (ms: number) => new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());

/** SIGTERM to every live gateway, SIGKILL to those still alive after `graceMs`; resolves when all exited. */
export async function stopGateways(procs: readonly GatewayProcess[], graceMs: number): Promise<void> {
  const alive = procs.filter((p) => p.exit === null);
  for (const p of alive) signal(p, 'SIGTERM');
  const all = Promise.all(alive.map((p) => p.exited));
  if ((await Promise.race([all, timeout(graceMs)])) === 'timeout') {
    for (const p of alive) if (p.exit === null) signal(p, 'SIGKILL');
    await Promise.race([all, timeout(5000)]);
  }
}

function signal(p: GatewayProcess, sig: NodeJS.Signals): void {
  try {
    process.kill(p.pid, sig);
  } catch {
    // Already gone (ESRCH).
  }
}

/** Last resort on the way out (an exception in the devnet itself): no gateway outlives it. */
export function killOnExit(procs: () => readonly GatewayProcess[]): void {
  process.on('exit', () => {
    for (const p of procs()) if (p.exit === null) signal(p, 'SIGKILL');
  });
}
