/**
 * The firmware commands' command lines (`node bin/iosnet.js ...` as a child process): listings, usage
 * errors, and the failures an operator meets before any byte reaches a board — each one line, no stack.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBoards } from '../../../boards/index.js';
import { run } from '../../helpers/process.js';

const iosnet = fileURLToPath(new URL('../../../bin/iosnet.js', import.meta.url));
let dir: string;
const cli = (...args: string[]) => run(process.execPath, [iosnet, ...args], { timeoutMs: 60_000 });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iosnet-flash-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('firmware CLI', () => {
  it('`iosnet boards` lists every board, as a table and as JSON', async () => {
    const table = await cli('boards');
    expect(table.code).toBe(0);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^ID\s+ARCH\s+NODE\s+RAM\s+SLOT\s+TRANSPORTS\s+BAUD\s+NAME$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0])).toEqual(listBoards().map((b) => b.id));
    expect(table.stdout).toMatch(/rpi-zero-2w\s+arm64\s+18\s+512 MB/);
    const json = await cli('boards', '--json');
    expect(JSON.parse(json.stdout)).toEqual(listBoards());
  }, 60_000);

  it('usage errors and unknown boards are one line', async () => {
    let r = await cli('image', 'build', '--anchor', 'x', '--release-key', 'k', '--out', 'o');
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe('iosnet image build: --board is required');
    r = await cli('image', 'build', '--board', 'rpi5', '--anchor', 'x', '--release-key', 'k', '--out', 'o');
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      /^iosnet image build: BOARD_UNKNOWN: unknown board 'rpi5' \(known: rpi4,/,
    );
    r = await cli('flash', '--port', '/dev/null', '--board', 'emu-x64');
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe('iosnet flash: missing argument');
  }, 60_000);

  it('refuses an oversize image and a missing port before talking to a board', async () => {
    writeFileSync(join(dir, 'big.bin'), new Uint8Array(2 * 1024 * 1024 + 1));
    let r = await cli(
      'flash',
      '--port',
      join(dir, 'no-such-port'),
      '--board',
      'emu-x64',
      join(dir, 'big.bin'),
    );
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      /^iosnet flash: IMAGE_TOO_LARGE: .* is 2097153 bytes, emu-x64 slots hold 2097152$/,
    );
    writeFileSync(join(dir, 'small.bin'), new Uint8Array(100));
    r = await cli('flash', '--port', join(dir, 'no-such-port'), '--board', 'emu-x64', join(dir, 'small.bin'));
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      `iosnet flash: FLASH_PORT_ERROR: ${join(dir, 'no-such-port')}: no such serial port`,
    );
  }, 60_000);

  it('`iosnet board emulate` refuses an unprovisioned flash folder', async () => {
    const r = await cli(
      'board',
      'emulate',
      '--board',
      'emu-x64',
      '--port',
      '/dev/null',
      '--flash-dir',
      join(dir, 'f'),
    );
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/EMULATOR_NOT_PROVISIONED: .*\(give --release-key to provision it\)$/);
    // Bad input changes nothing: no flash folder appears.
    expect(existsSync(join(dir, 'f'))).toBe(false);
  }, 60_000);
});
