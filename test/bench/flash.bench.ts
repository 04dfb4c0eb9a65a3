/**
 * `npm run bench:flash [-- --json]`: flashing throughput over a socat pty pair with the real SerialPort
 * class on both ends, against the raw throughput of the same pair in the same run.
 *   flashGoodputRatio = image bytes/s through the protocol (INFO..END_OK, which carries the slot's hash since
 *                       protocol v2, no boot) / raw bytes/s (target >= 0.8), medians of `--rounds` (15)
 *                       rounds each. The protocol rounds are `iosnet flash`'s default session: chunks as
 *                       DATA_Z (raw deflate, protocol v3), compressed inside the timed session; the same
 *                       sessions with plain DATA only are reported beside (flashGoodputRatioPlainData).
 *                       The far end runs in its own process, as a board is its own machine: the
 *                       emulator (`iosnet board emulate`) for the protocol, test/bench/raw-sink.ts for raw.
 *                       Raw and protocol rounds alternate in blocks of 5 on the same pair, so both see the
 *                       same load on a shared machine; each far end takes 30 untimed warm-up transfers first.
 *   lineFlashGoodputRatio = the same ratio over a 921,600-baud line (two socat pairs joined at the line's byte
 *                       rate by test/helpers/slow-line.ts), as a board's UART: raw there is the line's rate;
 *                       the host deflates at LINE_COMPRESSION_LEVEL there (it knows the baud rate), and
 *                       lineFlashDataBytesOnLine gives the chunk bytes; ...PlainData beside it; one round
 *                       each; `--no-line` skips it
 *   imageBuildMs      = buildImage of the real device entry for emu-x64
 *   bootToSyncedMs*   = flash done (BOOT sent) -> the device's light client reports synced, on emu-x64 and emu-arm64
 *                       (qemu), against a one-validator devnet (test/bench/boot-to-synced.ts); `--no-boot` skips it
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBoard } from '../../boards/index.js';
import { toHex } from '../../core/bytes.js';
import { flashImage } from '../../flash-scripts/flash.js';
import { buildImage } from '../../flash-scripts/image.js';
import { openSerialPort } from '../../flash-scripts/serial.js';
import { cliCrypto } from '../../gateway/cli/crypto.js';
import { testCrypto as crypto } from '../helpers/crypto.js';
import { releaseKey, spawnEmulator, spawnSlowLine, testAnchor } from '../helpers/flash.js';
import { HilDevnet, prepareSysroots } from '../helpers/hil.js';
import { measureBootToSyncedPhases } from './boot-to-synced.js';
import { log, machine, median, round } from './harness.js';

const json = process.argv.includes('--json');
const IOSNET = fileURLToPath(new URL('../../bin/iosnet.js', import.meta.url));
const RAW_SINK = fileURLToPath(new URL('./raw-sink.ts', import.meta.url));

/** Resolves once the child has written `line` on stderr; rejects with what it wrote if it exits first. */
function childSays(child: ChildProcess, line: string, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => reject(new Error(`no '${line}' within ${timeoutMs} ms: ${text}`)),
      timeoutMs,
    );
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      if (text.includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`exited before '${line}': ${text}`));
    });
  });
}

/** SIGTERM, resolved when the child has exited. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
const board = getBoard('emu-x64');
const dir = mkdtempSync(join(tmpdir(), 'iosnet-bench-flash-'));
const a = join(dir, 'host');
const b = join(dir, 'board');
let socat: ChildProcess | undefined;
/** The baud-limited line's processes (two socats, the relay). */
const lineProcs: ChildProcess[] = [];

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

  // A far end in its own process runs its first transfers with cold code (V8 compiles and optimizes as it
  // goes); a board's bootloader is compiled code that never warms up. So each spawned far end first takes
  // WARM_UP untimed transfers of the same image (each BEGIN starts it over at byte 0: nothing of one
  // session helps the next, docs/flashing.md §6). Thirty, because that is where both far ends have levelled
  // off (2026-11-24, runs of 30-60 transfers from a fresh process): an emulator's sessions ~40-67 ms for the
  // first 3, ~33-38 ms to the 10th, ~20-27 ms from the 11th on; the raw sink's transfers ~20-35 ms for the
  // first ~25, ~13-18 ms after. With 3 (before), the timed rounds were an emulator's 4th-8th sessions, and
  // with 10 the raw sink's 11th-15th transfers (a run then gave 1.205): each timed a JIT, not the line.
  const WARM_UP = 30;
  const total = image.bytes.length;
  /** Writes `bytes` in 64 KiB writes; resolves with the ms until the far end's one-byte answer is back. */
  const sendRaw = async (tx: Awaited<ReturnType<typeof openSerialPort>>, bytes: Uint8Array) => {
    const back = new Promise<void>((resolve) => tx.stream.once('data', () => resolve()));
    const start = performance.now();
    for (let off = 0; off < bytes.length; off += 65536) tx.stream.write(bytes.subarray(off, off + 65536));
    await back;
    return performance.now() - start;
  };

  // Raw, far end in its own process (test/bench/raw-sink.ts, as the board is in the protocol rounds): timed
  // until the one byte the sink writes back once it has read every byte reaches the sender, as the protocol
  // round is timed until END_OK reaches the host. One sink serves a block of rounds after its warm-up.
  const rawBlock = async (n: number, line = { host: a, board: b, warmUp: WARM_UP }): Promise<number[]> => {
    const sizes = Array.from({ length: line.warmUp + n }, () => String(total));
    const sink = spawn(process.execPath, ['--import', 'tsx', RAW_SINK, line.board, ...sizes], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await childSays(sink, `raw sink on ${line.board}`);
      const tx = await openSerialPort(line.host, board.flash.baud);
      try {
        for (let i = 0; i < line.warmUp; i++) await sendRaw(tx, image.bytes);
        const rates: number[] = [];
        for (let i = 0; i < n; i++) rates.push((total * 1000) / (await sendRaw(tx, image.bytes)));
        return rates;
      } finally {
        await tx.close();
      }
    } finally {
      await stopChild(sink);
    }
  };
  // Protocol, board in its own process: a whole session (INFO, BEGIN, DATA, END) each round against
  // `iosnet board emulate` (the portable crypto, with its boot ROM's native hashing and signature check,
  // boards/emulator/boot-rom.ts, docs/flashing.md §10), each on a freshly opened host port. One board serves
  // a block of rounds after its warm-up sessions, as a board on a flashing bench stays powered between
  // images; each round's BEGIN starts the image over at byte 0 (the complete staged image of the round
  // before is never resumed, docs/flashing.md §6), so an earlier round spares a later one no data. The host
  // checks the image with the crypto `iosnet flash` uses (native).
  let flashDirs = 0;
  /** Rates of `n` sessions; `compression` as FlashOptions (undefined: what `iosnet flash` does). */
  const flashBlock = async (
    n: number,
    compression?: false,
    line = { host: a, board: b, warmUp: WARM_UP, baud: undefined as number | undefined },
  ): Promise<number[]> => {
    const emulator = await spawnEmulator(
      {
        iosnet: IOSNET,
        boardId: board.id,
        port: line.board,
        flashDir: join(dir, `flash-${flashDirs++}`),
        releaseKey: toHex(releaseKey.publicKey),
        bootDeadlineMs: 20_000,
      },
      () => {},
    );
    try {
      for (let i = 0; i < line.warmUp; i++) await timeFlash(image.bytes, compression, line);
      const rates: number[] = [];
      for (let i = 0; i < n; i++)
        rates.push((total * 1000) / (await timeFlash(image.bytes, compression, line)));
      return rates;
    } finally {
      await stopChild(emulator.child);
    }
  };
  /** Chunk bytes a DATA_Z session put on the pty, and on the baud-limited line (a higher level there). */
  let wireBytes = 0;
  let lineWireBytes = 0;
  /** One session (no boot) on a freshly opened host port: its ms. */
  const timeFlash = async (
    bytes: Uint8Array,
    compression: false | undefined,
    line: { host: string; baud: number | undefined },
  ): Promise<number> => {
    const host = await openSerialPort(line.host, board.flash.baud);
    try {
      const start = performance.now();
      const r = await flashImage({
        port: host.stream,
        image: bytes,
        boardId: board.id,
        crypto: cliCrypto(),
        boot: false,
        ...(compression === false ? { compression } : {}),
        ...(line.baud ? { baudRate: line.baud } : {}),
      });
      const ms = performance.now() - start;
      if (compression === undefined) {
        if (line.baud) lineWireBytes = r.dataBytesSent;
        else wireBytes = r.dataBytesSent;
      }
      return ms;
    } finally {
      await host.close();
    }
  };

  const roundsAt = process.argv.indexOf('--rounds');
  const rounds = roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : 15;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a positive integer');
  // Raw, protocol (DATA_Z, as `iosnet flash` sends by default) and protocol with plain DATA only, in
  // alternating blocks of 5 rounds, so all three see the same drift in machine load.
  const block = 5;
  const rawRates: number[] = [];
  const flashRates: number[] = [];
  const plainRates: number[] = [];
  for (let done = 0; done < rounds; done += block) {
    const n = Math.min(block, rounds - done);
    rawRates.push(...(await rawBlock(n)));
    flashRates.push(...(await flashBlock(n)));
    plainRates.push(...(await flashBlock(n, false)));
  }
  const rawBytesPerSec = median(rawRates);
  const flashBytesPerSec = median(flashRates);
  const plainBytesPerSec = median(plainRates);
  const rates = {
    rawBytesPerSec: round(rawBytesPerSec),
    flashBytesPerSec: round(flashBytesPerSec),
    flashGoodputRatio: round(flashBytesPerSec / rawBytesPerSec, 3),
    flashGoodputRatioPerRound: flashRates.map((f, i) => round(f / rawRates[i]!, 3)),
    flashDataBytesOnLine: wireBytes,
    flashGoodputRatioPlainData: round(plainBytesPerSec / rawBytesPerSec, 3),
    flashGoodputRatioPlainDataPerRound: plainRates.map((f, i) => round(f / rawRates[i]!, 3)),
    rawBytesPerSecPerRound: rawRates.map((r) => round(r)),
  };
  log(
    `raw ${round(rawBytesPerSec / 1024)} KiB/s; flash ${round(flashBytesPerSec / 1024)} KiB/s of image (${wireBytes} chunk bytes on the line), ratio ${rates.flashGoodputRatio}; plain DATA ${round(plainBytesPerSec / 1024)} KiB/s, ratio ${rates.flashGoodputRatioPlainData}`,
  );

  // The same three over a line with a baud rate, as a board's UART has (921,600 baud: two socat pairs joined
  // by test/helpers/slow-line.ts at 92,160 bytes/s): the line, not the CPU, is the bottleneck there. One
  // round each, no warm-up (the line's seconds dwarf the far end's ~40 ms of cold code); `--no-line` skips it.
  let line: Record<string, number> = {};
  if (!process.argv.includes('--no-line')) {
    const LINE_BAUD = 921_600;
    const slow = {
      ...(await spawnSlowLine(dir, 'line', LINE_BAUD, (c) => lineProcs.push(c))),
      warmUp: 0,
      baud: LINE_BAUD,
    };
    const [lineRaw] = await rawBlock(1, slow);
    const [lineZ] = await flashBlock(1, undefined, slow);
    const [linePlain] = await flashBlock(1, false, slow);
    line = {
      lineBaud: LINE_BAUD,
      lineRawBytesPerSec: round(lineRaw!),
      lineFlashBytesPerSec: round(lineZ!),
      lineFlashGoodputRatio: round(lineZ! / lineRaw!, 3),
      lineFlashDataBytesOnLine: lineWireBytes,
      lineFlashGoodputRatioPlainData: round(linePlain! / lineRaw!, 3),
    };
    log(`over a ${LINE_BAUD}-baud line: ${JSON.stringify(line)}`);
  }

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
    ...rates,
    ...line,
    bootToSyncedMsArm64,
    bootToSyncedMsX64,
    targets: { flashGoodputRatio: 0.8 },
  };
  if (!json)
    for (const [k, v] of Object.entries(report)) if (typeof v !== 'object') log(`${k.padEnd(22)} ${v}`);
  console.log(JSON.stringify(report));
} finally {
  if (socat?.pid) process.kill(socat.pid, 'SIGTERM');
  for (const c of lineProcs) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
