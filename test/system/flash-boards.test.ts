/**
 * Emulated boards as on a bench, past the happy path of flash.test.ts: two boards flashed at once over two
 * socat pty pairs, an image that exceeds the board's RAM (killed by the RAM cap, the board keeps its
 * previous image), an image that does not start within the boot deadline, a power loss during a trial
 * boot, and a power-on whose active slot no longer verifies (fallback to the other slot). Real processes:
 * socat, `iosnet board emulate` (real SerialPort), `iosnet flash`, Debian's Node 18 (x64) for the images.
 * Every process started here is stopped by its pid; every path is under a random temp dir.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBoard } from '../../boards/index.js';
import { toHex } from '../../core/bytes.js';
import { flashImage } from '../../flash-scripts/flash.js';
import { buildImage } from '../../flash-scripts/image.js';
import { openSerialPort } from '../../flash-scripts/serial.js';
import { testCrypto as crypto } from '../helpers/crypto.js';
import {
  boardInfo,
  type EmulatorProcess,
  releaseKey,
  removeTinyEntries,
  spawnEmulator,
  testAnchor,
  tinyEntry,
  waitFor,
} from '../helpers/flash.js';
import { run } from '../helpers/process.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const iosnet = join(repo, 'bin', 'iosnet.js');
const board = getBoard('emu-x64');
/**
 * Boot deadline of the board that gets a hanging image: short, so the test is quick, but the image it
 * rolls back to must still start within it (Node 18 in its chroot takes 0.5 s idle, 4+ s measured under a
 * load average of 8 on the shared 2 cores).
 */
const DEADLINE_MS = 10_000;
let dir: string;
const children: ChildProcess[] = [];

/** A socat pty pair: the USB-serial cable between a host and one board. */
async function ptyPair(name: string): Promise<{ host: string; board: string }> {
  const host = join(dir, `${name}-host`);
  const boardEnd = join(dir, `${name}-board`);
  const socat = spawn('/usr/bin/socat', [`pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${boardEnd}`], {
    stdio: 'ignore',
  });
  children.push(socat);
  await waitFor(() => existsSync(host) && existsSync(boardEnd), 10_000, 'the socat links');
  return { host, board: boardEnd };
}

function emulate(port: string, flashDir: string, bootDeadlineMs = 20_000): Promise<EmulatorProcess> {
  return spawnEmulator(
    { iosnet, boardId: board.id, port, flashDir, releaseKey: toHex(releaseKey.publicKey), bootDeadlineMs },
    (child) => children.push(child),
  );
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    process.kill(child.pid!, signal);
  });
}

const bootLines = (e: EmulatorProcess) => (e.log().match(/console: \{"event":"boot"/g) ?? []).length;

function flashCli(hostPort: string, file: string) {
  return run(process.execPath, [iosnet, 'flash', '--port', hostPort, '--board', board.id, file, '--json'], {
    timeoutMs: 90_000,
  });
}

/** Builds an image of `entry` (a file) or of a small entry with `source`, signed by the pinned key. */
async function image(version: string, source?: string): Promise<string> {
  let entry = tinyEntry();
  if (source !== undefined) {
    entry = join(dir, `entry-${version}.js`);
    writeFileSync(entry, source);
  }
  const built = await buildImage({
    board,
    anchor: testAnchor(),
    releaseSecretKey: releaseKey.secretKey,
    version,
    crypto,
    entry,
  });
  const file = join(dir, `image-${version}.bin`);
  writeFileSync(file, built.bytes);
  return file;
}

/**
 * Device processes an emulator started: a graceful stop (SIGTERM) ends them, a power cut (SIGKILL) leaves
 * them to the emulator's next power-on. Should a test fail before that, end them here, by pid: only ours,
 * the processes whose command line names this test's random temp dir.
 */
function killStrayDevices(): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir))
        process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iosnet-flash-boards-'));
  const prep = await run(join(repo, 'scripts', 'prepare-sysroots.sh'), ['x64', '--quiet'], {
    timeoutMs: 600_000,
  });
  expect(prep.code, prep.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  removeTinyEntries();
  // Emulators first, gracefully (each stops its device), then the socat lines.
  for (const c of children.reverse()) await stop(c, 'SIGTERM');
  if (dir) {
    killStrayDevices();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('emulated boards', () => {
  let line1: { host: string; board: string };
  let line2: { host: string; board: string };
  let emu1: EmulatorProcess;
  let emu2: EmulatorProcess;

  it('flashes two boards at once, each over its own pty pair, and each boots its own image', async () => {
    const [a, b] = [await image('1.0.0-a'), await image('1.0.0-b')];
    line1 = await ptyPair('line1');
    line2 = await ptyPair('line2');
    emu1 = await emulate(line1.board, join(dir, 'flash-1'));
    emu2 = await emulate(line2.board, join(dir, 'flash-2'));
    const started = Date.now();
    const [r1, r2] = await Promise.all([flashCli(line1.host, a), flashCli(line2.host, b)]);
    expect(r1.code, r1.stderr + emu1.log()).toBe(0);
    expect(r2.code, r2.stderr + emu2.log()).toBe(0);
    const out1 = JSON.parse(r1.stdout) as { slot: string; bootedVersion: string; ms: number };
    const out2 = JSON.parse(r2.stdout) as { slot: string; bootedVersion: string; ms: number };
    expect(out1).toMatchObject({ slot: 'a', bootedVersion: '1.0.0-a' });
    expect(out2).toMatchObject({ slot: 'a', bootedVersion: '1.0.0-b' });
    // They overlapped: together they took less than one after the other would have.
    expect(Date.now() - started).toBeLessThan(out1.ms + out2.ms + 10_000);
    expect(bootLines(emu1)).toBe(1);
    expect(bootLines(emu2)).toBe(1);
    expect(await boardInfo(line1.host, board.flash.baud)).toMatchObject({
      activeSlot: 'a',
      activeVersion: '1.0.0-a',
    });
    expect(await boardInfo(line2.host, board.flash.baud)).toMatchObject({
      activeSlot: 'a',
      activeVersion: '1.0.0-b',
    });
  }, 180_000);

  it("kills an image that exceeds the board's RAM before it confirms, and keeps the previous image", async () => {
    // Off-heap Buffers: only the RAM cap (the watchdog of scripts/node18 --mem-mb) can stop them.
    const hog = await image(
      '2.0.0-hog',
      'const hog = []; setInterval(() => hog.push(Buffer.alloc(16 * 1024 * 1024, 1)), 10);\n',
    );
    const r = await flashCli(line1.host, hog);
    expect(r.code, r.stdout + emu1.log()).toBe(1);
    expect(r.stderr).toMatch(/FLASH_BOOT_FAILED: .*device exited \(SIGKILL\).*rolled back to slot a/);
    expect(emu1.log()).toMatch(new RegExp(`resident memory \\d+ MiB > --mem-mb ${board.ramMb}`));
    await waitFor(() => bootLines(emu1) >= 2, 30_000, 'the previous image to boot again');
    expect(await boardInfo(line1.host, board.flash.baud)).toMatchObject({
      activeSlot: 'a',
      activeVersion: '1.0.0-a',
      staged: null,
    });
  }, 180_000);

  it('rolls back an image that does not start within the deadline, also after a power loss mid-trial', async () => {
    await stop(emu2.child);
    emu2 = await emulate(line2.board, join(dir, 'flash-2'), DEADLINE_MS);
    await waitFor(() => bootLines(emu2) >= 1, 30_000, 'slot a to boot at power-on');
    const hang = await image('3.0.0-hang', "console.log('starting'); setInterval(() => {}, 1000);\n");
    const r = await flashCli(line2.host, hang);
    expect(r.code, r.stdout + emu2.log()).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`FLASH_BOOT_FAILED: no boot line within ${DEADLINE_MS} ms; rolled back to slot a`),
    );
    await waitFor(() => bootLines(emu2) >= 2, 30_000, 'the rollback boot');
    expect(await boardInfo(line2.host, board.flash.baud)).toMatchObject({
      activeSlot: 'a',
      activeVersion: '1.0.0-b',
    });

    // Again, and cut the power while the new image is on trial: at power-on the board rolls back.
    const port = await openSerialPort(line2.host, board.flash.baud);
    const abort = new AbortController();
    // Counted before the session starts: the log already holds the first attempt's trial boot.
    const trials = () => (emu2.log().match(/booting slot b/g) ?? []).length;
    const before = trials();
    const flashing = flashImage({
      port: port.stream,
      image: new Uint8Array(readFileSync(hang)),
      boardId: board.id,
      crypto,
      signal: abort.signal,
    }).catch((err: unknown) => err);
    await waitFor(() => trials() > before, 30_000, 'the trial boot of slot b');
    await stop(emu2.child, 'SIGKILL');
    abort.abort();
    expect(await flashing).toMatchObject({ code: 'FLASH_ABORTED' });
    await port.close();
    emu2 = await emulate(line2.board, join(dir, 'flash-2'), DEADLINE_MS);
    await waitFor(() => bootLines(emu2) >= 1, 30_000, 'slot a to boot after the power loss');
    expect(emu2.log()).toContain('slot b never confirmed its boot: rolled back');
    expect(await boardInfo(line2.host, board.flash.baud)).toMatchObject({
      activeSlot: 'a',
      activeVersion: '1.0.0-b',
    });
  }, 180_000);

  it('at power-on falls back to the previous image when the active slot no longer verifies', async () => {
    const next = await image('1.1.0-a');
    const r = await flashCli(line1.host, next);
    expect(r.code, r.stderr + emu1.log()).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ slot: 'b', bootedVersion: '1.1.0-a' });
    await stop(emu1.child);
    // Flash wear: one bit of the active image flips while the board is off.
    const slotFile = join(dir, 'flash-1', 'slot-b.bin');
    const slot = readFileSync(slotFile);
    slot[Math.floor(readFileSync(next).length / 2)]! ^= 0x01;
    writeFileSync(slotFile, slot);
    emu1 = await emulate(line1.board, join(dir, 'flash-1'));
    await waitFor(() => /fell back to slot a/.test(emu1.log()), 30_000, 'the fallback to slot a', emu1.log);
    expect(emu1.log()).toMatch(/bootloader refused slot b: IMAGE_HASH_MISMATCH/);
    expect(bootLines(emu1)).toBe(1);
    expect(await boardInfo(line1.host, board.flash.baud)).toMatchObject({
      activeSlot: 'a',
      activeVersion: '1.0.0-a',
    });
    await stop(emu1.child);
    await stop(emu2.child);
  }, 180_000);
});
