/** Fixtures for image and flashing tests: a trust anchor, a release key, a tiny device entry. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeInfo, encodeFrame, MessageType, SlipDecoder } from '../../core/serial-protocol.js';
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
