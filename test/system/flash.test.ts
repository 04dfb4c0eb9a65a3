/**
 * Flashing end to end, as on a bench: two socat pty pairs joined at 921,600 baud (test/helpers/slow-line.ts)
 * are the USB-serial cable, `iosnet board emulate` (emu-x64, then emu-arm64 under qemu) holds one end with
 * the real SerialPort class, and the host flashes
 * through the other with the real SerialPort class: `iosnet image build` -> an interrupted transfer ->
 * `iosnet flash` resumes and boots (Debian's Node 18) -> power loss mid-transfer and resume -> refusals and
 * rollback leave the board on its previous image.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBoard } from '../../boards/index.js';
import { toHex } from '../../core/bytes.js';
import { DEFAULT_COMPRESSION_LEVEL, flashImage, LINE_COMPRESSION_LEVEL } from '../../flash-scripts/flash.js';
import { buildImage } from '../../flash-scripts/image.js';
import { openSerialPort } from '../../flash-scripts/serial.js';
import { testCrypto as crypto } from '../helpers/crypto.js';
import {
  boardInfo,
  chunkBytesOnce,
  type EmulatorProcess,
  otherReleaseKey,
  removeTinyEntries,
  spawnEmulator,
  spawnSlowLine,
  testAnchor,
  tinyEntry,
  waitFor,
} from '../helpers/flash.js';
import { run } from '../helpers/process.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const iosnet = join(repo, 'bin', 'iosnet.js');
let dir: string;
let hostPort: string;
let boardPort: string;
const emulators: ChildProcess[] = [];

type Emulator = EmulatorProcess;

function startEmulator(boardId: string, flashDir: string, port = boardPort): Promise<Emulator> {
  return spawnEmulator(
    {
      iosnet,
      boardId,
      port,
      flashDir,
      releaseKey: join(dir, 'release.json'),
      bootDeadlineMs: boardId === 'emu-x64' ? 20_000 : 120_000,
    },
    (child) => emulators.push(child),
  );
}

async function stopEmulator(e: Emulator, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (e.child.exitCode !== null || e.child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    e.child.once('exit', () => resolve());
    e.child.kill(signal);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iosnet-flash-'));
  // The cable: a line at 921,600 baud (a board's fast UART rate). A power loss mid-transfer then costs
  // what arrived since the last periodic sync, as on hardware; on a bare pty the whole image crosses
  // before the first periodic sync is due (docs/flashing.md §6).
  ({ host: hostPort, board: boardPort } = await spawnSlowLine(dir, 'cable', 921_600, (c) =>
    emulators.push(c),
  ));
  const keygen = await run(process.execPath, [iosnet, 'keygen', '--out', join(dir, 'release.json')]);
  expect(keygen.code, keygen.stderr).toBe(0);
  writeFileSync(join(dir, 'anchor.cbor'), testAnchor());
  const prep = await run(join(repo, 'scripts', 'prepare-sysroots.sh'), ['x64', 'arm64', '--quiet'], {
    timeoutMs: 600_000,
  });
  expect(prep.code, prep.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  removeTinyEntries();
  // SIGTERM first: an emulator then stops its device process (SIGKILL would leave it running).
  await Promise.all(
    emulators
      .filter((e) => e.exitCode === null && e.signalCode === null)
      .map(
        (e) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => e.kill('SIGKILL'), 5_000);
            e.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            e.kill('SIGTERM');
          }),
      ),
  );
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('flashing an emulated board over a pty', () => {
  let emu: Emulator;
  const flashDir = () => join(dir, 'flash-emu-x64');
  const image = (v: string) => join(dir, `image-${v}.bin`);
  let releasePub: string;

  it('builds the device image with `iosnet image build`', async () => {
    for (const v of ['1.0.0', '1.1.0']) {
      const r = await run(process.execPath, [
        iosnet,
        'image',
        'build',
        '--board',
        'emu-x64',
        '--anchor',
        join(dir, 'anchor.cbor'),
        '--release-key',
        join(dir, 'release.json'),
        '--out',
        image(v),
        '--version',
        v,
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout) as { bytes: number; signer: string };
      expect(summary.bytes).toBeLessThan(getBoard('emu-x64').slotBytes);
      releasePub = summary.signer;
    }
    // Two real builds (terser dominates): 6-22 s each on a quiet machine, up to ~65 s each measured while
    // other benchmarks load the 2 cores.
  }, 240_000);

  it('resumes an interrupted transfer and boots the image on Debian Node 18', async () => {
    emu = await startEmulator('emu-x64', flashDir());
    const bytes = new Uint8Array(readFileSync(image('1.0.0')));
    const port = await openSerialPort(hostPort, 115_200);
    const abort = new AbortController();
    try {
      await expect(
        flashImage({
          port: port.stream,
          image: bytes,
          boardId: 'emu-x64',
          crypto,
          signal: abort.signal,
          // Early: what is already on its way (up to a window, 256 KiB of this 384 KiB image) still reaches
          // the board after the abort, and the transfer must stay partial.
          onProgress: (p) => p.sentBytes > bytes.length * 0.1 && abort.abort(),
        }),
      ).rejects.toMatchObject({ code: 'FLASH_ABORTED' });
    } finally {
      await port.close(); // the cable is pulled mid-transfer
    }
    const r = await run(
      process.execPath,
      [iosnet, 'flash', '--port', hostPort, '--board', 'emu-x64', image('1.0.0')],
      {
        timeoutMs: 60_000,
      },
    );
    expect(r.code, r.stderr + emu.log()).toBe(0);
    expect(r.stdout).toMatch(/flashed .* to slot a in \d+ ms, resumed at/);
    expect(r.stdout).toContain('booted version 1.0.0 from slot a');
    expect(r.stderr).toContain('ETA');
    // The device's console comes back over the same line: Node 18 printed its boot event.
    expect(emu.log()).toMatch(/console: \{"event":"boot"/);
    const info = await boardInfo(hostPort, 115_200);
    expect(info).toMatchObject({ boardId: 'emu-x64', activeSlot: 'a', activeVersion: '1.0.0', staged: null });
  }, 90_000);

  it('resumes after a power loss of the board mid-transfer, into the other slot', async () => {
    const bytes = new Uint8Array(readFileSync(image('1.1.0')));
    const port = await openSerialPort(hostPort, 115_200);
    let killed = false;
    await expect(
      flashImage({
        port: port.stream,
        image: bytes,
        boardId: 'emu-x64',
        crypto,
        timeoutMs: 500,
        ackTimeoutMs: 200,
        stallTimeoutMs: 2_000,
        onProgress: (p) => {
          if (!killed && p.sentBytes > bytes.length * 0.5) {
            killed = true;
            emu.child.kill('SIGKILL');
          }
        },
      }),
    )
      .rejects.toMatchObject({ code: 'FLASH_NO_ANSWER' })
      .finally(() => port.close());
    await new Promise((r) => setTimeout(r, 200));
    emu = await startEmulator('emu-x64', flashDir());
    // On power-on the board boots its last good image again.
    await waitFor(() => /console: \{"event":"boot"/.test(emu.log()), 20_000, 'the reboot of slot a');
    const info = await boardInfo(hostPort, 115_200);
    expect(info.activeSlot).toBe('a');
    expect(info.staged?.haveBytes).toBeGreaterThan(0);
    // The interrupted session sent DATA_Z (the default); this one resumes with plain DATA: offsets count
    // image bytes whatever the encoding (docs/flashing.md §5).
    const r = await run(
      process.execPath,
      [iosnet, 'flash', '--port', hostPort, '--board', 'emu-x64', image('1.1.0'), '--no-compress', '--json'],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr + emu.log()).toBe(0);
    const out = JSON.parse(r.stdout) as {
      bytes: number;
      resumedFrom: number;
      dataBytesSent: number;
      slot: string;
      bootedVersion: string;
    };
    expect(out.resumedFrom).toBe(info.staged!.haveBytes);
    expect(out.dataBytesSent).toBe(out.bytes - out.resumedFrom);
    expect(out).toMatchObject({ slot: 'b', bootedVersion: '1.1.0' });
  }, 90_000);

  it('refuses a foreign signature, a wrong board and a busy port; rolls back an image that does not start', async () => {
    const base = { anchor: testAnchor(), crypto, version: '9.9.9' };
    const foreign = await buildImage({
      ...base,
      board: getBoard('emu-x64'),
      releaseSecretKey: otherReleaseKey.secretKey,
      entry: tinyEntry(),
    });
    writeFileSync(join(dir, 'foreign.bin'), foreign.bytes);
    const flashCli = (file: string, board = 'emu-x64') =>
      run(process.execPath, [iosnet, 'flash', '--port', hostPort, '--board', board, file], {
        timeoutMs: 60_000,
      });
    let r = await flashCli(join(dir, 'foreign.bin'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^iosnet flash: FLASH_REFUSED: .*IMAGE_UNTRUSTED_SIGNER/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    r = await flashCli(image('1.1.0'), 'emu-arm64');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FLASH_WRONG_BOARD/);

    const holder = await openSerialPort(hostPort, 115_200);
    r = await flashCli(image('1.1.0'));
    await holder.close();
    expect(r.stderr.trim()).toBe(`iosnet flash: FLASH_PORT_BUSY: ${hostPort} is in use by another program`);

    // Signed by the pinned key, for this board, but it dies at start: the board rolls back to slot b.
    const dying = await buildImage({
      ...base,
      board: getBoard('emu-x64'),
      releaseSecretKey: readReleaseSecret(),
      entry: tinyEntry({ fail: true }),
    });
    writeFileSync(join(dir, 'dying.bin'), dying.bytes);
    r = await flashCli(join(dir, 'dying.bin'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FLASH_BOOT_FAILED: .*rolled back to slot b/);
    await waitFor(
      () => (emu.log().match(/console: \{"event":"boot"/g) ?? []).length >= 3,
      20_000,
      'rollback boot',
    );
    const info = await boardInfo(hostPort, 115_200);
    expect(info).toMatchObject({ activeSlot: 'b', activeVersion: '1.1.0' });
    expect(releasePub).toBe(toHex(crypto.ed25519.getPublicKey(readReleaseSecret())));
    await stopEmulator(emu);
  }, 120_000);

  it('boots an image on an emulated arm64 board under qemu-user', async () => {
    const arm = await buildImage({
      anchor: testAnchor(),
      crypto,
      version: '1.0.0',
      board: getBoard('emu-arm64'),
      releaseSecretKey: readReleaseSecret(),
      entry: tinyEntry(),
    });
    const armEmu = await startEmulator('emu-arm64', join(dir, 'flash-emu-arm64'));
    const port = await openSerialPort(hostPort, 115_200);
    try {
      const r = await flashImage({ port: port.stream, image: arm.bytes, boardId: 'emu-arm64', crypto });
      expect(r).toMatchObject({ slot: 'a', bootedVersion: '1.0.0' });
    } finally {
      await port.close();
    }
    expect(armEmu.log()).toMatch(/console: \{"event":"boot","node":"v18\.\d+\.\d+","arch":"arm64"\}/);
    await stopEmulator(armEmu);
  }, 180_000);

  it('flashes over a line at 115,200 baud (the board UART rate), each chunk sent once, deflated harder', async () => {
    // 115,200 baud (11,520 bytes/s): a chunk of this image is ~1.7 s on the line, past the host's 1 s ACK
    // timeout: a host that does not allow for the line's time resends the window again and again.
    const { host, board: boardEnd } = await spawnSlowLine(dir, 'slow', 115_200, (c) => emulators.push(c));
    const slowEmu = await startEmulator('emu-x64', join(dir, 'flash-slow'), boardEnd);
    const small = await buildImage({
      anchor: testAnchor(),
      crypto,
      version: '1.2.0',
      board: getBoard('emu-x64'),
      releaseSecretKey: readReleaseSecret(),
      entry: tinyEntry({ padBytes: 40_000 }),
    });
    writeFileSync(join(dir, 'small.bin'), small.bytes);
    // Each chunk once, deflated at the level for a line with a baud rate (the board's, from the CLI).
    const once = (level: number) => chunkBytesOnce(small.bytes, level);
    expect(once(LINE_COMPRESSION_LEVEL)).toBeLessThan(once(DEFAULT_COMPRESSION_LEVEL));
    const r = await run(
      process.execPath,
      [iosnet, 'flash', '--port', host, '--board', 'emu-x64', join(dir, 'small.bin'), '--no-boot', '--json'],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr + slowEmu.log()).toBe(0);
    const out = JSON.parse(r.stdout) as { bytes: number; dataBytesSent: number };
    expect(out.bytes).toBe(small.bytes.length);
    expect(out.dataBytesSent).toBe(once(LINE_COMPRESSION_LEVEL));
    await stopEmulator(slowEmu);
  }, 120_000);
});

function readReleaseSecret(): Uint8Array {
  const key = JSON.parse(readFileSync(join(dir, 'release.json'), 'utf8')) as {
    ed25519: { secretKey: string };
  };
  return Uint8Array.from(Buffer.from(key.ed25519.secretKey, 'hex'));
}
