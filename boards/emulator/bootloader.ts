/**
 * The emulated board's bootloader: verifies a slot's image (signature by the pinned release key, board id,
 * payload hash) before running it, runs it with Debian's Node 18 (scripts/node18: chroot for x64, qemu-user
 * for arm64/armhf) under the board's RAM cap, and rolls back to the previous slot when a new image does not
 * report its boot line within the deadline. A boot counts as confirmed when the device prints the JSON line
 * `{"event":"boot",...}` (device/cli.ts prints it once its key and trust anchor are loaded).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHex, toHex } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError } from '../../core/errors.js';
import { decodeManifest, decodePayload, verifyImage } from '../../flash-scripts/image-format.js';
import { type BoardDefinition, sysrootArch } from '../index.js';
import { DEVICE_NODE_FLAGS } from '../types.js';
import type { BootResult } from './board-protocol.js';
import type { FlashStore, SlotName } from './flash-store.js';

const NODE18 = fileURLToPath(new URL('../../scripts/node18', import.meta.url));

export interface BootloaderOptions {
  readonly board: BoardDefinition;
  readonly store: FlashStore;
  readonly crypto: Crypto;
  /** Device runtime settings written to data/device.json (docs/device.md §Config). */
  readonly device: { readonly broker: string; readonly audience: string };
  readonly bootDeadlineMs: number;
  /** A line of device console output (stdout and stderr). */
  readonly onConsole: (line: string) => void;
  /** A frame the device wrote on its console (the answer to a signing command, docs §11): raw, with ENDs. */
  readonly onDeviceFrame?: (frame: Uint8Array) => void;
  /** Extra arguments for the device's `run` (e.g. --transact-every MS --transfer-to ADDR on devnets). */
  readonly deviceArgs?: readonly string[];
  readonly log: (line: string) => void;
}

export class Bootloader {
  private readonly opts: BootloaderOptions;
  private child: ChildProcess | undefined;
  private readonly runDir: string;
  private readonly dataDir: string;

  constructor(opts: BootloaderOptions) {
    this.opts = opts;
    this.runDir = join(opts.store.dir, 'run');
    this.dataDir = join(opts.store.dir, 'data');
  }

  /** Power-on: a trial still pending means the new image never confirmed (power lost): roll back. */
  async powerOn(): Promise<void> {
    const { store } = this.opts;
    this.killStaleDevice();
    if (store.env.trial) {
      this.opts.log(`slot ${store.env.trial} never confirmed its boot: rolled back`);
      store.env.slots[store.env.trial] = null;
      store.env.trial = null;
      store.persist();
    }
    const active = store.env.active;
    if (!active) {
      this.opts.log('no bootable slot: waiting for an image');
      return;
    }
    const r = await this.run(active);
    if (r.ok) return;
    this.opts.log(`slot ${active} did not boot: ${r.reason}`);
    // The other slot holds the previous good image (or nothing): an A/B board falls back to it.
    const other: SlotName = active === 'a' ? 'b' : 'a';
    if (!store.env.slots[other]) return;
    const back = await this.run(other);
    if (!back.ok) return this.opts.log(`slot ${other} did not boot either: ${back.reason}`);
    store.env.active = other;
    store.persist();
    this.opts.log(`fell back to slot ${other}`);
  }

  /** BOOT: try the staged slot; confirm it, or roll back to the active one. */
  async trialBoot(slot: SlotName): Promise<BootResult> {
    const { store } = this.opts;
    const s = store.env.staging!;
    const { version } = decodeManifest(fromHex(s.manifest));
    store.env.slots[slot] = { size: s.imageSize, sha256: s.imageSha256, version };
    store.env.staging = null;
    store.env.trial = slot;
    store.persist();
    await this.stop();
    const r = await this.run(slot);
    if (r.ok) {
      store.env.active = slot;
      store.env.trial = null;
      store.persist();
      this.opts.log(`slot ${slot} confirmed (version ${store.env.slots[slot]!.version})`);
      return r;
    }
    store.env.slots[slot] = null;
    store.env.trial = null;
    store.persist();
    const back = store.env.active;
    this.opts.log(
      `slot ${slot} failed (${r.reason}); ${back ? `rolling back to slot ${back}` : 'no previous image'}`,
    );
    if (back) void this.run(back);
    return {
      ok: false,
      reason: `${r.reason}; ${back ? `rolled back to slot ${back}` : 'no previous image to run'}`,
    };
  }

  /** Verifies and runs a slot's image; resolves when it confirmed or failed. */
  private async run(slot: SlotName): Promise<BootResult> {
    const { store, crypto, board } = this.opts;
    const info = store.env.slots[slot];
    if (!info) return { ok: false, reason: `slot ${slot} is empty` };
    let payload: ReturnType<typeof decodePayload>;
    try {
      const bytes = store.read(slot, info.size);
      if (toHex(crypto.sha256(bytes)) !== info.sha256)
        throw new IosnetError('IMAGE_HASH_MISMATCH', 'slot corrupted');
      const image = verifyImage(crypto, bytes, {
        releaseKey: fromHex(store.env.releaseKey),
        boardId: store.env.boardId,
      });
      payload = decodePayload(image.payload);
    } catch (err) {
      const e = err as IosnetError;
      return { ok: false, reason: `bootloader refused slot ${slot}: ${e.code ?? 'ERROR'}: ${e.message}` };
    }
    rmSync(this.runDir, { recursive: true, force: true });
    mkdirSync(this.runDir, { recursive: true });
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(this.runDir, 'main.mjs'), payload.entry);
    writeFileSync(join(this.runDir, 'board.json'), payload.board);
    writeFileSync(join(this.runDir, 'anchor.cbor'), payload.anchor);
    const config = join(this.dataDir, 'device.json');
    writeFileSync(
      config,
      JSON.stringify({
        broker: this.opts.device.broker,
        audience: this.opts.device.audience,
        anchor: join(this.runDir, 'anchor.cbor'),
        keyFile: join(this.dataDir, 'device.key'),
        boardId: board.id,
        hardwareSerial: store.env.hardwareSerial,
      }),
    );
    const args = [
      '--arch',
      sysrootArch(board),
      '--mem-mb',
      String(board.ramMb),
      '--bind',
      store.dir,
      ...DEVICE_NODE_FLAGS.flatMap((f) => ['--node-arg', f]),
      '--',
      join(this.runDir, 'main.mjs'),
      'run',
      '--config',
      config,
      ...(this.opts.deviceArgs ?? []),
    ];
    this.opts.log(`booting slot ${slot} (${board.arch}, ${board.ramMb} MB)`);
    const child = spawn(NODE18, args, { cwd: store.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin!.on('error', () => {});
    this.child = child;
    if (child.pid) writeFileSync(join(store.dir, 'device.pid'), String(child.pid));
    return new Promise<BootResult>((resolve) => {
      let settled = false;
      const settle = (r: BootResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => {
        settle({ ok: false, reason: `no boot line within ${this.opts.bootDeadlineMs} ms` });
        void this.stop();
      }, this.opts.bootDeadlineMs);
      const onLine = (line: string) => {
        this.opts.onConsole(line);
        if (!settled && isBootLine(line)) settle({ ok: true });
      };
      consoleAndFrames(child.stdout!, onLine, (f) => this.opts.onDeviceFrame?.(f));
      lines(child.stderr!, onLine);
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        this.opts.onConsole(`[bootloader] device exited (${signal ?? `code ${code}`})`);
        settle({ ok: false, reason: `device exited (${signal ?? `code ${code}`}) before its boot line` });
      });
    });
  }

  /**
   * Passes a device command frame (types 0xA0-0xAF, raw with its ENDs) to the running device's console
   * input; false when no device is running.
   */
  toDevice(frame: Uint8Array): boolean {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null || !child.stdin?.writable)
      return false;
    child.stdin.write(frame);
    return true;
  }

  /** Stops the running device: SIGTERM, then SIGKILL after 3 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.child = undefined;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 3_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  /** After a power loss of the emulator itself (kill -9), its device process may still run: end it. */
  private killStaleDevice(): void {
    const pidFile = join(this.opts.store.dir, 'device.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8'));
    rmSync(pidFile, { force: true });
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      // Only our own device (pids are reused): its command line names this board's run folder.
      if (cmdline.includes(this.runDir)) process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

function isBootLine(line: string): boolean {
  if (!line.startsWith('{')) return false;
  try {
    return (JSON.parse(line) as { event?: unknown }).event === 'boot';
  } catch {
    return false;
  }
}

function lines(stream: NodeJS.ReadableStream, onLine: (l: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    buf += d;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
  });
}

/**
 * The device's stdout is its console: UTF-8 lines, and between them SLIP frames (END ... END) answering
 * signing commands. 0xC0 never occurs in UTF-8, so an END byte always starts or ends a frame.
 */
function consoleAndFrames(
  stream: NodeJS.ReadableStream,
  onLine: (l: string) => void,
  onFrame: (frame: Uint8Array) => void,
): void {
  const decoder = new TextDecoder();
  let text = '';
  let frame: number[] | null = null;
  const flushText = (chunk: Uint8Array, from: number, to: number) => {
    if (to <= from) return;
    text += decoder.decode(chunk.subarray(from, to), { stream: true });
    let i = text.indexOf('\n');
    while (i >= 0) {
      onLine(text.slice(0, i));
      text = text.slice(i + 1);
      i = text.indexOf('\n');
    }
  };
  stream.on('data', (d: Uint8Array) => {
    let start = 0;
    for (let i = 0; i < d.length; i++) {
      const b = d[i]!;
      if (frame === null) {
        if (b !== 0xc0) continue;
        flushText(d, start, i);
        frame = [0xc0];
      } else if (b === 0xc0) {
        if (frame.length === 1) continue; // END END: still the frame's opening
        frame.push(b);
        onFrame(Uint8Array.from(frame));
        frame = null;
        start = i + 1;
      } else {
        frame.push(b);
        if (frame.length > 2 * 8192 + 2) frame = null; // not a frame: drop it
        start = i + 1;
      }
    }
    if (frame === null) flushText(d, start, d.length);
  });
}
