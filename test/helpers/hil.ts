/**
 * Hardware in the loop on emulated boards, shared by test/hil and test/bench/boot-to-synced.ts: a devnet of
 * real gateway processes (embedded MQTT broker) with the files a board operator has (trust anchor, release
 * key, owner key), and emulated boards (`iosnet board emulate` on one end of a socat pty pair) that are
 * flashed, booted and registered through the same CLI and serial paths an operator uses on a bench.
 *
 * Every process (gateway, socat, emulator and, through it, its device) is stopped by pid in close().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBoard, sysrootArch } from '../../boards/index.js';
import { toHex } from '../../core/bytes.js';
import type { ChainParams } from '../../core/genesis.js';
import { decodeErrorBody, decodeSlotText, FlashError, MessageType } from '../../core/serial-protocol.js';
import type { AllocationBucketName } from '../../core/token.js';
import { FrameLink, flashImage } from '../../flash-scripts/flash.js';
import { boardConfigBytes } from '../../flash-scripts/image.js';
import {
  decodeImage,
  decodePayload,
  encodeImage,
  encodeManifest,
  encodePayload,
  imageSigningMessage,
} from '../../flash-scripts/image-format.js';
import { openSerialPort } from '../../flash-scripts/serial.js';
import { genesisAnchorBytes } from '../../gateway/devnet/devices.js';
import { DEVNET_PARAMS } from '../../gateway/devnet/files.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';
import { crypto, TestNet } from './gateways.js';
import { type RunResult, run } from './process.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
export const IOSNET = join(repo, 'bin', 'iosnet.js');

/**
 * HIL devnets run at `iosnet devnet`'s own cadence (DEVNET_PARAMS, a block every 500 ms): a state block every
 * 4 s, an epoch every 32 s. A light client verifies every state block it follows and every committee change
 * on its way up from the genesis anchor, one BLS verification each: ~50 ms natively but ~1 s of CPU for
 * Node 18 under qemu (measured with noble on this machine), so TestNet's 10x faster chain (a state block
 * every 0.8 s) is more than an emulated ARM board can follow, as it would be for a slow real one.
 */
export const HIL_PARAMS: ChainParams = DEVNET_PARAMS;
const HIL_BLOCK_INTERVAL_MS = 500;

/** Waits for `cond`, polling every 50 ms; the error carries `context()` (logs) for the post-mortem. */
export async function waitUntil(
  cond: () => boolean,
  ms: number,
  what: string,
  context: () => string = () => '',
): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGTERM by pid, SIGKILL after graceMs; resolves once the process is gone. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    process.kill(child.pid!, 'SIGTERM');
  });
}

/** The sysroot names (scripts/prepare-sysroots.sh) the given boards run their images with. */
export function sysrootsFor(boardIds: readonly string[]): string[] {
  return [...new Set(boardIds.map((id) => sysrootArch(getBoard(id))))];
}

/** Prepares (once, cached under .cache/) the Node 18 sysroots the boards need. */
export async function prepareSysroots(boardIds: readonly string[]): Promise<void> {
  const prep = await run(
    join(repo, 'scripts', 'prepare-sysroots.sh'),
    ['--quiet', ...sysrootsFor(boardIds)],
    {
      timeoutMs: 600_000,
    },
  );
  if (prep.code !== 0) throw new Error(`prepare-sysroots.sh failed:\n${prep.stderr}`);
}

/** A one-validator devnet with the embedded broker, and the operator's files for it. */
export class HilDevnet {
  private constructor(
    readonly net: TestNet,
    /** Scratch folder: anchor, release key, images, pty links, flash folders. */
    readonly dir: string,
  ) {}

  static async start(opts: { params?: ChainParams } = {}): Promise<HilDevnet> {
    const net = await TestNet.create(1, {
      params: opts.params ?? HIL_PARAMS,
      consensus: { blockIntervalMs: HIL_BLOCK_INTERVAL_MS },
    });
    const dir = mkdtempSync(join(tmpdir(), 'iosnet-hil-'));
    const devnet = new HilDevnet(net, dir);
    try {
      const node = net.files.nodes[0]!;
      net.configure(0, { mqtt: { listen: `127.0.0.1:${node.mqttPort}` } });
      net.start(0);
      writeFileSync(devnet.anchorPath, genesisAnchorBytes(crypto, net.files.genesis));
      const keygen = await run(process.execPath, [IOSNET, 'keygen', '--out', devnet.releaseKeyPath]);
      if (keygen.code !== 0) throw new Error(`iosnet keygen failed: ${keygen.stderr}`);
      await net.waitHeight(0, 2, 60_000);
    } catch (err) {
      await devnet.close();
      throw err;
    }
    return devnet;
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.net.files.nodes[0]!.apiPort}`;
  }

  get brokerUrl(): string {
    return `mqtt://127.0.0.1:${this.net.files.nodes[0]!.mqttPort}`;
  }

  /** The gateway's node key: the audience of device auth tokens on the embedded broker. */
  get audience(): string {
    return toHex(readKeyFile(this.net.files.nodes[0]!.keyPath, crypto).key.ed25519.publicKey);
  }

  get anchorPath(): string {
    return join(this.dir, 'anchor.cbor');
  }

  get releaseKeyPath(): string {
    return join(this.dir, 'release.json');
  }

  /**
   * Key file of a funded genesis account that owns (registers and funds) devices. Boards registered at the
   * same time need different owners: each owner's transactions take the next nonce.
   */
  ownerKeyPath(bucket: AllocationBucketName = 'communityIncentives'): string {
    return this.net.files.bucketKeys[bucket];
  }

  owner(bucket: AllocationBucketName = 'communityIncentives') {
    return readKeyFile(this.ownerKeyPath(bucket), crypto).key;
  }

  /** `iosnet image build` for a board, as an operator runs it; returns the image's path. */
  async buildImage(boardId: string, version = '1.0.0', timeoutMs = 120_000): Promise<string> {
    const out = join(this.dir, `image-${boardId}-${version}.bin`);
    const build = await run(
      process.execPath,
      [
        IOSNET,
        'image',
        'build',
        '--board',
        boardId,
        '--anchor',
        this.anchorPath,
        '--release-key',
        this.releaseKeyPath,
        '--out',
        out,
        '--version',
        version,
      ],
      { timeoutMs },
    );
    if (build.code !== 0) throw new Error(`iosnet image build --board ${boardId} failed: ${build.stderr}`);
    return out;
  }

  /**
   * The image `iosnet image build --board boardId` would make, from an image built for another board: every
   * board runs Node 18, so the bundled entry (whose terser pass is 10-25 s of CPU here, measured) is the
   * same; only the board definition in the payload, the manifest and its signature differ.
   */
  imageForBoard(builtImagePath: string, boardId: string, version = '1.0.0'): string {
    const built = decodeImage(new Uint8Array(readFileSync(builtImagePath)));
    const { entry, anchor } = decodePayload(built.payload);
    const payload = encodePayload({ entry, board: boardConfigBytes(getBoard(boardId)), anchor });
    const secretKey = readKeyFile(this.releaseKeyPath, crypto).key.ed25519.secretKey;
    const manifestBytes = encodeManifest({
      boardId,
      version,
      size: payload.length,
      sha256: crypto.sha256(payload),
      signer: crypto.ed25519.getPublicKey(secretKey),
    });
    const signature = crypto.ed25519.sign(imageSigningMessage(crypto, manifestBytes), secretKey);
    const out = join(this.dir, `image-${boardId}-${version}.bin`);
    writeFileSync(out, encodeImage(manifestBytes, signature, payload));
    return out;
  }

  async close(): Promise<void> {
    await this.net.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A serial line between host and board: a socat pty pair (the USB-serial cable) under random names in the
 * devnet's folder, so parallel runs never collide. With nobody on the board end, it is a board that does
 * not answer.
 */
export class SerialLine {
  private constructor(
    readonly host: string,
    readonly board: string,
    private readonly socat: ChildProcess,
  ) {}

  static async open(devnet: HilDevnet, name: string): Promise<SerialLine> {
    const tag = `${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const host = join(devnet.dir, `host-${tag}`);
    const board = join(devnet.dir, `board-${tag}`);
    const socat = spawn('/usr/bin/socat', [`pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${board}`], {
      stdio: 'ignore',
    });
    const line = new SerialLine(host, board, socat);
    try {
      // Bytes written before the far end is open are lost: wait for both links.
      await waitUntil(() => existsSync(host) && existsSync(board), 10_000, 'the socat links');
    } catch (err) {
      await line.close();
      throw err;
    }
    return line;
  }

  /** `iosnet device register` on this line's host end (the CLI, as an operator runs it). */
  register(
    devnet: HilDevnet,
    extra: string[] = [],
    opts: { owner?: AllocationBucketName; gateway?: string; timeoutMs?: number } = {},
  ): Promise<RunResult> {
    return run(
      process.execPath,
      [
        IOSNET,
        'device',
        'register',
        '--port',
        this.host,
        '--owner-key',
        devnet.ownerKeyPath(opts.owner),
        '--gateway',
        opts.gateway ?? devnet.gatewayUrl,
        ...extra,
      ],
      { timeoutMs: opts.timeoutMs ?? 90_000 },
    );
  }

  async close(): Promise<void> {
    await stopChild(this.socat, 1000);
  }
}

export interface ConsoleLine {
  /** Date.now() when the line reached this process. */
  readonly at: number;
  readonly text: string;
}

export interface FlashAndBoot {
  /** INFO .. VERIFY_OK: the image is on the board. */
  readonly flashMs: number;
  /** Date.now() when BOOT was sent: "flash done". */
  readonly bootSentAt: number;
  /** Date.now() when BOOT_OK arrived: the device printed its boot line. */
  readonly bootOkAt: number;
  readonly bootedVersion: string;
}

/**
 * An emulated board (`iosnet board emulate`) on the board end of its own serial line, provisioned with the
 * devnet's release key; its device talks to the devnet's broker. `lines` holds the emulator's log
 * (bootloader, flash and the device console), each line stamped on arrival.
 */
export class EmulatedBoard {
  readonly lines: ConsoleLine[] = [];
  private emulator: ChildProcess | undefined;
  private partial = '';

  private constructor(
    readonly boardId: string,
    readonly line: SerialLine,
  ) {}

  /** Starts the serial line and the emulator; resolves once the emulator listens on its port. */
  static async start(
    devnet: HilDevnet,
    boardId: string,
    opts: { deviceArgs?: string; bootDeadlineMs?: number } = {},
  ): Promise<EmulatedBoard> {
    const line = await SerialLine.open(devnet, boardId);
    const board = new EmulatedBoard(boardId, line);
    try {
      const emulator = spawn(
        process.execPath,
        [
          IOSNET,
          'board',
          'emulate',
          '--board',
          boardId,
          '--port',
          line.board,
          '--flash-dir',
          join(devnet.dir, `flash-${basename(line.board)}`),
          '--release-key',
          devnet.releaseKeyPath,
          '--broker',
          devnet.brokerUrl,
          '--audience',
          devnet.audience,
          ...(opts.bootDeadlineMs ? ['--boot-deadline-ms', String(opts.bootDeadlineMs)] : []),
          ...(opts.deviceArgs ? [`--device-args=${opts.deviceArgs}`] : []),
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      board.emulator = emulator;
      emulator.stderr!.setEncoding('utf8').on('data', (d: string) => board.onLog(d));
      await waitUntil(
        () => board.log.includes(`board ${boardId} on`) || emulator.exitCode !== null,
        20_000,
        'the emulator',
        () => board.tail(),
      );
      if (emulator.exitCode !== null) throw new Error(`emulator exited:\n${board.tail()}`);
    } catch (err) {
      await board.close();
      throw err;
    }
    return board;
  }

  private onLog(d: string): void {
    const at = Date.now();
    const parts = (this.partial + d).split('\n');
    this.partial = parts.pop()!;
    for (const text of parts) this.lines.push({ at, text });
  }

  /** The whole log as text. */
  get log(): string {
    return this.lines.map((l) => l.text).join('\n');
  }

  /** The log's last lines, for failure messages. */
  tail(chars = 4000): string {
    return this.log.slice(-chars);
  }

  /** The first log line matching `re` (at or after `since`), waiting up to timeoutMs for it. */
  async waitForLine(re: RegExp, timeoutMs: number, what: string, since = 0): Promise<ConsoleLine> {
    let found: ConsoleLine | undefined;
    await waitUntil(
      () => {
        found = this.lines.find((l) => l.at >= since && re.test(l.text));
        return found !== undefined || this.emulator?.exitCode != null;
      },
      timeoutMs,
      `${what} on ${this.boardId}`,
      () => this.tail(),
    );
    if (!found) throw new Error(`emulator of ${this.boardId} exited before ${what}\n${this.tail()}`);
    return found;
  }

  /**
   * Flashes the image with the host's real flashing code (flashImage, without its boot step), then sends
   * BOOT itself, so that the moment flashing is done (BOOT sent) is known exactly.
   */
  async flashAndBoot(imagePath: string, bootTimeoutMs = 180_000): Promise<FlashAndBoot> {
    const port = await openSerialPort(this.line.host, getBoard(this.boardId).flash.baud);
    try {
      const t0 = Date.now();
      await flashImage({
        port: port.stream,
        image: new Uint8Array(readFileSync(imagePath)),
        boardId: this.boardId,
        crypto,
        boot: false,
      });
      const link = new FrameLink(port.stream);
      try {
        const bootSentAt = Date.now();
        link.send(MessageType.boot);
        for (;;) {
          const f = await link.next(Math.max(1, bootSentAt + bootTimeoutMs - Date.now()), 'BOOT');
          if (f.type === MessageType.bootOk) {
            const { text: version } = decodeSlotText(f.body, 'boot');
            return { flashMs: bootSentAt - t0, bootSentAt, bootOkAt: Date.now(), bootedVersion: version };
          }
          if (f.type === MessageType.error) {
            const { code, message } = decodeErrorBody(f.body);
            throw new FlashError('FLASH_BOOT_FAILED', `board refused BOOT: ${code}: ${message}`);
          }
        }
      } finally {
        link.close();
      }
    } finally {
      await port.close();
    }
  }

  /** `iosnet device register` over this board's serial line. */
  register(
    devnet: HilDevnet,
    extra: string[] = [],
    opts: { owner?: AllocationBucketName; timeoutMs?: number } = {},
  ): Promise<RunResult> {
    return this.line.register(devnet, extra, opts);
  }

  /** Stops the emulator (which stops its device) and the serial line. */
  async close(): Promise<void> {
    // IOSNET_HIL_LOG_DIR=DIR keeps each board's log, every line stamped with its arrival time.
    const keep = process.env.IOSNET_HIL_LOG_DIR;
    if (keep && this.lines.length > 0) {
      const t0 = this.lines[0]!.at;
      const text = this.lines.map((l) => `${String(l.at - t0).padStart(7)} ${l.text}`).join('\n');
      writeFileSync(join(keep, `${this.boardId}-${this.lines[0]!.at}.log`), `${text}\n`);
    }
    // The emulator gives its device 3 s to end after SIGTERM; under qemu that can take a while.
    await stopChild(this.emulator, 10_000);
    await this.line.close();
  }
}
