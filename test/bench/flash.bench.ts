/**
 * `npm run bench:flash [-- --json]`: flashing throughput over a socat pty pair with the real SerialPort
 * class on both ends, against the raw throughput of the same pair in the same run.
 *   flashGoodputRatio = image bytes/s through the protocol (INFO..VERIFY, no boot) / raw bytes/s (target >= 0.8)
 *   imageBuildMs      = buildImage of the real device entry for emu-x64
 * bootToSyncedMs* need a devnet behind the emulated board (issue 5, HIL part): not measured yet (null).
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
import { testCrypto as crypto } from '../helpers/crypto.js';
import { releaseKey, testAnchor } from '../helpers/flash.js';
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

  // Raw: the image's size in 64 KiB writes, timed until the far end has every byte.
  const rawRates: number[] = [];
  {
    const tx = await openSerialPort(a, board.flash.baud);
    const rx = await openSerialPort(b, board.flash.baud);
    for (let round = 0; round < 5; round++) {
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
      rawRates.push((total * 1000) / (performance.now() - start));
    }
    await tx.close();
    await rx.close();
  }
  const rawBytesPerSec = median(rawRates);
  log(`raw pty: ${round(rawBytesPerSec / 1024)} KiB/s`);

  const emulator = await startEmulator({
    board,
    port: b,
    flashDir: join(dir, 'flash'),
    crypto,
    releaseKey: toHex(releaseKey.publicKey),
    log: () => {},
  });
  const flashRates: number[] = [];
  const host = await openSerialPort(a, board.flash.baud);
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    await flashImage({ port: host.stream, image: image.bytes, boardId: board.id, crypto, boot: false });
    flashRates.push((image.bytes.length * 1000) / (performance.now() - start));
  }
  await host.close();
  await emulator.close();
  const flashBytesPerSec = median(flashRates);
  log(`flash protocol: ${round(flashBytesPerSec / 1024)} KiB/s`);

  const report = {
    bench: 'flash',
    machine: machine(),
    imageBytes: image.bytes.length,
    imageBuildMs: round(imageBuildMs),
    rawBytesPerSec: round(rawBytesPerSec),
    flashBytesPerSec: round(flashBytesPerSec),
    flashGoodputRatio: round(flashBytesPerSec / rawBytesPerSec, 3),
    bootToSyncedMsArm64: null,
    bootToSyncedMsX64: null,
    targets: { flashGoodputRatio: 0.8 },
  };
  if (!json)
    for (const [k, v] of Object.entries(report)) if (typeof v !== 'object') log(`${k.padEnd(22)} ${v}`);
  console.log(JSON.stringify(report));
} finally {
  if (socat?.pid) process.kill(socat.pid, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
