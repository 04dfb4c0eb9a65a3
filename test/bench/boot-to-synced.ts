/**
 * Boot to synced on an emulated board, against a one-validator devnet (issue 5's bootToSyncedMs* figures):
 * from the moment flashing is done (the host sends BOOT after VERIFY_OK) until the device's light client
 * reports `{"event":"synced",...,"registered":true}` on its console. A new board must be registered before
 * the broker lets it in, so the figure is the operator's whole first-boot path:
 *   boot     BOOT sent -> BOOT_OK (Node 18 starts the image, which loads its key and anchor)
 *   register `iosnet device register` over the serial line, until the chain proves the record
 *   connect  the device's next MQTT attempt is accepted, it syncs from the genesis anchor and proves its
 *            account and registration
 *
 * `npx tsx test/bench/boot-to-synced.ts [--json] [--boards emu-x64,emu-arm64]`: one devnet, the boards one
 * after the other (so they do not compete for the 2 cores), a progress log on stderr and, last, one JSON
 * object: { bootToSyncedMsX64, bootToSyncedMsArm64, ..., phases }. test/bench/flash.bench.ts calls
 * measureBootToSynced.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EmulatedBoard, HilDevnet, prepareSysroots } from '../helpers/hil.js';
import { log, machine, round } from './harness.js';

export interface BootToSyncedOptions {
  /** A running devnet to use (default: one is started, and closed afterwards). */
  readonly devnet?: HilDevnet;
  /** A built image for the board (default: `iosnet image build` on the devnet's anchor). */
  readonly image?: string;
  /** Gives up after this long from BOOT (default 240 s: ARM under qemu on a loaded 2-core machine). */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface BootToSyncedPhases {
  readonly boardId: string;
  /** BOOT sent -> synced (the figure). */
  readonly bootToSyncedMs: number;
  /** BOOT sent -> BOOT_OK. */
  readonly bootMs: number;
  /** `iosnet device register`, started at BOOT_OK, until it returned. */
  readonly registerMs: number;
  /** register returned -> synced line. */
  readonly connectAndSyncMs: number;
  /** INFO .. VERIFY_OK (not part of the figure). */
  readonly flashMs: number;
}

/** One board, from a fresh flash folder: build (unless given), flash, boot, register, synced. */
export async function measureBootToSyncedPhases(
  boardId: string,
  opts: BootToSyncedOptions = {},
): Promise<BootToSyncedPhases> {
  const say = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 240_000;
  await prepareSysroots([boardId]);
  const devnet = opts.devnet ?? (await HilDevnet.start());
  let board: EmulatedBoard | undefined;
  try {
    const image = opts.image ?? (await devnet.buildImage(boardId));
    board = await EmulatedBoard.start(devnet, boardId);
    const boot = await board.flashAndBoot(image, timeoutMs);
    say(`${boardId}: flashed in ${boot.flashMs} ms, booted in ${boot.bootOkAt - boot.bootSentAt} ms`);
    const reg = await board.register(devnet, ['--board', boardId, '--json'], { timeoutMs });
    const registeredAt = Date.now();
    if (reg.code !== 0) throw new Error(`register on ${boardId} failed: ${reg.stderr}\n${board.tail()}`);
    say(`${boardId}: registered in ${registeredAt - boot.bootOkAt} ms`);
    const synced = await board.waitForLine(
      /console: \{"event":"synced".*"registered":true/,
      Math.max(1, boot.bootSentAt + timeoutMs - Date.now()),
      'the synced line',
    );
    const phases: BootToSyncedPhases = {
      boardId,
      bootToSyncedMs: synced.at - boot.bootSentAt,
      bootMs: boot.bootOkAt - boot.bootSentAt,
      registerMs: registeredAt - boot.bootOkAt,
      connectAndSyncMs: synced.at - registeredAt,
      flashMs: boot.flashMs,
    };
    say(
      `${boardId}: synced ${phases.connectAndSyncMs} ms after registering; boot to synced ${phases.bootToSyncedMs} ms`,
    );
    return phases;
  } finally {
    await board?.close();
    if (!opts.devnet) await devnet.close();
  }
}

/** Flash done (BOOT sent) -> the light client reports synced, in ms, on a fresh emulated board. */
export async function measureBootToSynced(boardId: string, opts: BootToSyncedOptions = {}): Promise<number> {
  return (await measureBootToSyncedPhases(boardId, opts)).bootToSyncedMs;
}

const FIGURE: Readonly<Record<string, string>> = {
  'emu-x64': 'bootToSyncedMsX64',
  'emu-arm64': 'bootToSyncedMsArm64',
  'emu-armv7': 'bootToSyncedMsArmv7',
};

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const i = process.argv.indexOf('--boards');
  const boards = i > 0 ? process.argv[i + 1]!.split(',') : ['emu-x64', 'emu-arm64'];
  for (const b of boards) if (!FIGURE[b]) throw new Error(`--boards: unknown emulated board ${b}`);
  await prepareSysroots(boards);
  const devnet = await HilDevnet.start();
  const report: Record<string, unknown> = {};
  const phases: BootToSyncedPhases[] = [];
  try {
    // One `iosnet image build`; the other boards reuse its entry (every board runs Node 18).
    const built = await devnet.buildImage(boards[0]!, '1.0.0', 300_000);
    for (const boardId of boards) {
      const image = boardId === boards[0] ? built : devnet.imageForBoard(built, boardId);
      const p = await measureBootToSyncedPhases(boardId, { devnet, image, log });
      phases.push(p);
      report[FIGURE[boardId]!] = round(p.bootToSyncedMs);
    }
  } finally {
    await devnet.close();
  }
  report.phases = phases;
  report.machine = machine();
  if (!json) log(JSON.stringify(report, null, 2));
  console.log(JSON.stringify(report));
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
