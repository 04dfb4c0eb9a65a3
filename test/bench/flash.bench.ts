/**
 * `npm run bench:flash [-- --json]`: flashing throughput over a socat pty pair with the real SerialPort
 * class on both ends, against the raw throughput of the same pair in the same run.
 *   flashGoodputRatio = image bytes/s through the protocol (INFO..END_OK, which carries the slot's hash since
 *                       protocol v2, no boot) / raw bytes/s (target >= 0.8). Rounds alternate raw and
 *                       protocol on the same pair, so both see the same load on a shared machine.
 *   imageBuildMs      = buildImage of the real device entry for emu-x64
 *   bootToSyncedMs*   = flash done (BOOT sent) -> the device's light client reports synced, on emu-x64 and emu-arm64
 *                       (qemu), against a one-validator devnet (test/bench/boot-to-synced.ts); `--no-boot` skips it
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../boards/emulator/emulator.js';
import { getBoard } from '../../boards/index.js';
import { toHex } from '../../core/bytes.js';
import { flashImage } from '../../flash-scripts/flash.js';
import { buildImage } from '../../flash-scripts/image.js';
import { openSerialPort } from '../../flash-scripts/serial.js';
import { cliCrypto } from '../../gateway/cli/crypto.js';
import { testCrypto as crypto } from '../helpers/crypto.js';
import { releaseKey, testAnchor } from '../helpers/flash.js';
import { HilDevnet, prepareSysroots } from '../helpers/hil.js';
import { measureBootToSyncedPhases } from './boot-to-synced.js';
import { log, machine, median, round } from './harness.js';

const json = process.argv.includes('--json');
const board = getBoard('emu-x64');
const dir = mkdtempSync(join(tmpdir(), 'iosnet-bench-flash-'));
const a = join(dir, 'host');
const b = join(dir, 'board');
let socat: ChildProcess | undefined;

try {
  socat = spawn('/usr/bin/socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 200 && !(existsSync(a) && existsSync(b)); i++)
    await new Promise((r) => setTimeout(r, 25));

  const t0 = performance.now();
  const image = await buildImage({
    board,
    anchor: testAnchor(),
    releaseSecretKey: releaseKey.secretKey,
    version: 'bench',
    crypto,
  });
  const imageBuildMs = performance.now() - t0;
  log(`image: ${image.bytes.length} bytes, built in ${round(imageBuildMs)} ms`);

  // Raw: the image's size in 64 KiB writes, timed until the far end has every byte (SerialPort both ends).
  const rawRound = async (): Promise<number> => {
    const tx = await openSerialPort(a, board.flash.baud);
    const rx = await openSerialPort(b, board.flash.baud);
    try {
      let got = 0;
      const total = image.bytes.length;
      const done = new Promise<void>((resolve) => {
        const onData = (c: Uint8Array) => {
          got += c.length;
          if (got >= total) {
            rx.stream.off('data', onData);
            resolve();
          }
        };
        rx.stream.on('data', onData);
      });
      const start = performance.now();
      for (let off = 0; off < total; off += 65536) tx.stream.write(image.bytes.subarray(off, off + 65536));
      await done;
      return (total * 1000) / (performance.now() - start);
    } finally {
      await tx.close();
      await rx.close();
    }
  };
  // Protocol: a whole session (INFO, BEGIN, DATA, END) each round, into a fresh board flash, so nothing from
  // an earlier round (staged state, slot files) helps a later one. The board end is the emulator given the
  // portable crypto (as `iosnet board emulate`); its bootloader hashes and verifies natively, as boot code
  // does (boards/emulator/boot-rom.ts, docs/flashing.md §10). The host checks the image with the crypto
  // `iosnet flash` uses (native).
  let flashRounds = 0;
  const flashRound = async (): Promise<number> => {
    const emulator = await startEmulator({
      board,
      port: b,
      flashDir: join(dir, `flash-${flashRounds++}`),
      crypto,
      releaseKey: toHex(releaseKey.publicKey),
      log: () => {},
    });
    const host = await openSerialPort(a, board.flash.baud);
    try {
      const start = performance.now();
      await flashImage({
        port: host.stream,
        image: image.bytes,
        boardId: board.id,
        crypto: cliCrypto(),
        boot: false,
      });
      return (image.bytes.length * 1000) / (performance.now() - start);
    } finally {
      await host.close();
      await emulator.close();
    }
  };
  const rawRates: number[] = [];
  const flashRates: number[] = [];
  await rawRound(); // warm-up (JIT, page cache), not counted
  await flashRound();
  for (let i = 0; i < 7; i++) {
    rawRates.push(await rawRound());
    flashRates.push(await flashRound());
  }
  const rawBytesPerSec = median(rawRates);
  log(`raw pty: ${round(rawBytesPerSec / 1024)} KiB/s`);
  const flashBytesPerSec = median(flashRates);
  log(`flash protocol: ${round(flashBytesPerSec / 1024)} KiB/s`);

  // Flash done -> light client synced, against a devnet (test/bench/boot-to-synced.ts); --no-boot skips it.
  let bootToSyncedMsX64: number | null = null;
  let bootToSyncedMsArm64: number | null = null;
  if (!process.argv.includes('--no-boot')) {
    await prepareSysroots(['emu-x64', 'emu-arm64']);
    const devnet = await HilDevnet.start();
    // A board that does not reach synced leaves its figure null (with the reason on the log), not the run.
    try {
      const built = await devnet.buildImage('emu-x64', '1.0.0', 300_000);
      bootToSyncedMsX64 = round(
        (await measureBootToSyncedPhases('emu-x64', { devnet, image: built, log })).bootToSyncedMs,
      );
      bootToSyncedMsArm64 = round(
        (
          await measureBootToSyncedPhases('emu-arm64', {
            devnet,
            image: devnet.imageForBoard(built, 'emu-arm64'),
            log,
          })
        ).bootToSyncedMs,
      );
    } catch (e) {
      log(`boot to synced not measured: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    } finally {
      await devnet.close();
    }
    log(`boot to synced: x64 ${bootToSyncedMsX64} ms, arm64 ${bootToSyncedMsArm64} ms`);
  }

  const report = {
    bench: 'flash',
    machine: machine(),
    imageBytes: image.bytes.length,
    imageBuildMs: round(imageBuildMs),
    rawBytesPerSec: round(rawBytesPerSec),
    flashBytesPerSec: round(flashBytesPerSec),
    flashGoodputRatio: round(flashBytesPerSec / rawBytesPerSec, 3),
    flashGoodputRatioPerRound: flashRates.map((f, i) => round(f / rawRates[i]!, 3)),
    bootToSyncedMsArm64,
    bootToSyncedMsX64,
    targets: { flashGoodputRatio: 0.8 },
  };
  if (!json)
    for (const [k, v] of Object.entries(report)) if (typeof v !== 'object') log(`${k.padEnd(22)} ${v}`);
  console.log(JSON.stringify(report));
} finally {
  if (socat?.pid) process.kill(socat.pid, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
