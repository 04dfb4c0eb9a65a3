/** Fixtures for image and flashing tests: a trust anchor, a release key, a tiny device entry. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import {
  DEFAULT_CHUNK_BYTES,
  decodeInfo,
  encodeFrame,
  MessageType,
  SlipDecoder,
} from '../../core/serial-protocol.js';
import { encodeAnchor } from '../../device/anchor.js';
import { openSerialPort } from '../../flash-scripts/serial.js';
import { makeCommittee } from './chain.js';
import { ed25519Key } from './keys.js';

export const releaseKey = ed25519Key('flash/release');
export const otherReleaseKey = ed25519Key('flash/other-release');

export function testAnchor(): Uint8Array {
  const c = makeCommittee({ label: 'flash/anchor' });
  return encodeAnchor({ kind: 'genesis', genesisHash: new Uint8Array(32).fill(7), committee: c.committee });
}

/**
 * A small device entry (bundles in ~0.1 s instead of the light client's ~8 s): prints the line the
 * emulator's bootloader waits for, then echoes console input, like `iosnet-device run` does on boot.
 */
let entryDir: string | undefined;
let entries = 0;

export function tinyEntry(opts: { fail?: boolean; padBytes?: number } = {}): string {
  if (!entryDir) {
    const dir = mkdtempSync(join(tmpdir(), 'iosnet-entry-'));
    entryDir = dir;
  }
  const file = join(entryDir, `entry-${entries++}.ts`);
  const pad = opts.padBytes ? `export const pad = ${JSON.stringify(randomText(opts.padBytes))};` : '';
  const body = opts.fail
    ? "console.error('tiny: refusing to start'); process.exit(3);"
    : "console.log(JSON.stringify({ event: 'boot', node: process.version, arch: process.arch })); setInterval(() => {}, 1000);";
  writeFileSync(file, `${pad}\n${body}\n`);
  return file;
}

/** Removes the entries tinyEntry wrote (call in afterAll: vitest workers may end without an 'exit' event). */
export function removeTinyEntries(): void {
  if (entryDir) rmSync(entryDir, { recursive: true, force: true });
  entryDir = undefined;
}

/** Incompressible-ish text so terser cannot shrink the padding. */
function randomText(n: number): string {
  let s = '';
  let x = 12345;
  while (s.length < n) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += x.toString(36);
  }
  return s.slice(0, n);
}

/** INFO over the host end of a board's line, with the real SerialPort class. */
export async function boardInfo(hostPort: string, baud: number) {
  const port = await openSerialPort(hostPort, baud);
  try {
    const decoder = new SlipDecoder();
    const got = new Promise<Uint8Array>((resolve) =>
      port.stream.on('data', (c: Uint8Array) =>
        decoder.push(
          c,
          (f) => f.type === MessageType.infoOk && resolve(f.body),
          () => {},
        ),
      ),
    );
    port.stream.write(encodeFrame(MessageType.info));
    return decodeInfo(await got);
  } finally {
    await port.close();
  }
}

export interface EmulatorProcess {
  readonly child: ChildProcess;
  /** Its stderr so far (the emulator's log lines). */
  log(): string;
}

/**
 * `iosnet board emulate` as a child process of `node bin/iosnet.js`, resolved once the board listens on
 * `port` (rejected with its log if it exits first). `track` gets the child at once, for the caller's cleanup.
 */
export async function spawnEmulator(
  opts: {
    readonly iosnet: string;
    readonly boardId: string;
    readonly port: string;
    readonly flashDir: string;
    /** A key file path or the public key in hex. */
    readonly releaseKey: string;
    readonly bootDeadlineMs: number;
  },
  track: (child: ChildProcess) => void,
): Promise<EmulatorProcess> {
  let log = '';
  const child = spawn(
    process.execPath,
    [
      opts.iosnet,
      'board',
      'emulate',
      '--board',
      opts.boardId,
      '--port',
      opts.port,
      '--flash-dir',
      opts.flashDir,
      '--release-key',
      opts.releaseKey,
      '--boot-deadline-ms',
      String(opts.bootDeadlineMs),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  track(child);
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    log += d;
  });
  const deadline = Date.now() + 20_000;
  while (!log.includes(`board ${opts.boardId} on`) && child.exitCode === null) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the emulator: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (child.exitCode !== null) throw new Error(`emulator exited: ${log}`);
  return { child, log: () => log };
}

/**
 * A serial line at `baud` between `host` and `board` (paths made in `dir`): two socat pty pairs joined by
 * test/helpers/slow-line.ts, which carries bytes at the line's rate as a UART does (a bare pty pair carries
 * ~20 MB/s). `track` gets each process at once (two socats, the relay), for the caller's cleanup.
 */
export async function spawnSlowLine(
  dir: string,
  name: string,
  baud: number,
  track: (child: ChildProcess) => void,
): Promise<{ readonly host: string; readonly board: string }> {
  const ends = ['host', 'line-a', 'line-b', 'board'].map((n) => join(dir, `${name}-${n}-${process.pid}`));
  const [host, lineA, lineB, board] = ends as [string, string, string, string];
  for (const [x, y] of [
    [host, lineA],
    [lineB, board],
  ])
    track(
      spawn('/usr/bin/socat', [`pty,raw,echo=0,link=${x}`, `pty,raw,echo=0,link=${y}`], { stdio: 'ignore' }),
    );
  await waitFor(() => ends.every((e) => existsSync(e)), 10_000, 'the socat links');
  const relay = spawn(process.execPath, ['--import', 'tsx', SLOW_LINE, lineA, lineB, String(baud)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  track(relay);
  let log = '';
  relay.stderr!.setEncoding('utf8').on('data', (d: string) => {
    log += d;
  });
  await waitFor(() => log.includes('slow line up') || relay.exitCode !== null, 20_000, 'the slow line');
  if (relay.exitCode !== null) throw new Error(`slow line exited: ${log}`);
  return { host, board };
}

const SLOW_LINE = fileURLToPath(new URL('./slow-line.ts', import.meta.url));

/** Polls `cond` every 50 ms until it holds; throws after `ms`, with `log()` when given. */
export async function waitFor(
  cond: () => boolean,
  ms: number,
  what: string,
  log?: () => string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${log ? `:\n${log()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Chunk bytes a session puts on the line when each chunk goes once, deflated at `level` where it shrinks. */
export function chunkBytesOnce(image: Uint8Array, level: number): number {
  let n = 0;
  for (let off = 0; off < image.length; off += DEFAULT_CHUNK_BYTES) {
    const chunk = image.subarray(off, off + DEFAULT_CHUNK_BYTES);
    n += Math.min(chunk.length, deflateRawSync(chunk, { level }).length);
  }
  return n;
}
