/**
 * The board's side of the flashing protocol (docs/flashing.md): INFO, BEGIN (header check before any data),
 * DATA with go-back-N acknowledgements, END (whole-image check), VERIFY, BOOT. Transport-agnostic: it reads
 * and writes bytes on any Duplex (a SerialPort on a pty, or an in-memory pair in unit tests).
 */
import type { Duplex } from 'node:stream';
import { inflateRawSync } from 'node:zlib';
import { equalBytes, fromHex, toHex } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError } from '../../core/errors.js';
import {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_WINDOW,
  decodeBegin,
  decodeData,
  ENCODING_DEFLATE,
  encodeErrorBody,
  encodeInfo,
  encodeSlotText,
  encodeU32,
  type Frame,
  isDeviceCommand,
  MessageType,
  PROTOCOL_VERSION,
} from '../../core/serial-protocol.js';
import { encodeImageHeader, verifyManifest } from '../../flash-scripts/image-format.js';
import { encodeFrame, FrameDecoder } from '../../flash-scripts/native-framing.js';
import { createSha256Stream, type Sha256Stream } from './boot-rom.js';
import type { FlashStore, SlotName, StagedImage } from './flash-store.js';

/**
 * The staged image's hashes, fed while DATA arrives: the whole image (checked against BEGIN's imageSha256,
 * returned in END_OK) and its payload (checked against the signed manifest). Re-reading and hashing the slot
 * at END and again at VERIFY took three passes of the board's sha256 over the image (noble, ~3-15 ms each
 * here) on the critical path (measured). The bootloader still re-reads and re-verifies the slot before
 * every boot, so a bad write to flash is caught before it runs. The streaming sha256 is the boot ROM's
 * (boot-rom.ts: native, as a board's bootloader hashes; noble's took ~5 ms per pass over the image here,
 * two passes per image, on the line's critical path: measured).
 */
interface StagedHashes {
  readonly staging: StagedImage;
  readonly image: Sha256Stream;
  readonly payload: Sha256Stream;
  /** Where the payload's content starts in the image, and the canonical bytes before it. */
  readonly header: Uint8Array;
  /** The image's first header.length bytes as received (compared with `header` when all are here). */
  readonly received: Uint8Array;
  readonly payloadSha256: Uint8Array;
  /** Bytes fed so far (== staging.have while the transfer runs). */
  at: number;
}

/** Stands for a frame that failed its CRC or framing among held frames (it is NAKed in its turn). */
const BAD_FRAME: Frame = { type: -1, body: new Uint8Array(0) };

export type BootResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface BoardProtocolOptions {
  readonly store: FlashStore;
  readonly crypto: Crypto;
  /** Tries the staged slot: resolves when it confirmed (ok) or was rolled back. */
  readonly trialBoot: (slot: SlotName) => Promise<BootResult>;
  readonly log?: (line: string) => void;
  /** Passes a device command frame (0xA0-0xAF, encoded) to the running device; false when none runs. */
  readonly toDevice?: (frame: Uint8Array) => boolean;
  /** The window advertised in INFO_OK (default DEFAULT_WINDOW): a board with less RAM offers less. */
  readonly window?: number;
  /** The INFO_OK `encodings` it offers (default ENCODING_DEFLATE): 0 plays a board without an inflater. */
  readonly encodings?: number;
}

export class BoardProtocol {
  private readonly opts: BoardProtocolOptions;
  /** The INFO_OK `encodings` this board offers. */
  private readonly encodings: number;
  private readonly decoder = new FrameDecoder();
  private stream: Duplex | undefined;
  /** The `have` value a NAK was last sent for: one NAK per gap, not one per out-of-order frame. */
  private nakedAt = -1;
  private booting = false;
  /**
   * The staged image's commit (checked at its last byte, then made durable in the background, so the sync
   * overlaps the last ACK and END's round trip): END answers when it settles.
   */
  private committing: { readonly staging: StagedImage; readonly done: Promise<void> } | undefined;
  private hashes: StagedHashes | undefined;
  /**
   * Frames that arrived after a BEGIN or VERIFY that waits for a commit: handled in arrival order once it
   * settles. A host streams DATA right behind BEGIN (§5), so handling them first would match them against
   * the transfer being committed.
   */
  private held: Frame[] | undefined;
  /** The last BEGIN was refused: DATA streamed behind it is dropped unanswered until the next BEGIN (§5). */
  private beginRefused = false;

  constructor(opts: BoardProtocolOptions) {
    this.opts = opts;
    this.encodings = opts.encodings ?? ENCODING_DEFLATE;
  }

  attach(stream: Duplex): void {
    this.stream = stream;
    stream.on('data', (chunk: Uint8Array) =>
      this.decoder.push(
        chunk,
        (f) => this.onFrame(f),
        () => this.onBadFrame(),
      ),
    );
  }

  send(type: number, body?: Uint8Array): void {
    this.stream?.write(encodeFrame(type, body));
  }

  /** Device console output shares the line (CONSOLE frames, docs §Console). */
  console(text: string): void {
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i < bytes.length; i += DEFAULT_CHUNK_BYTES) {
      this.send(MessageType.console, bytes.subarray(i, i + DEFAULT_CHUNK_BYTES));
    }
  }

  private error(code: string, message: string): void {
    this.opts.log?.(`refused: ${code}: ${message}`);
    this.send(MessageType.error, encodeErrorBody(code, message));
  }

  private onBadFrame() {
    if (this.held) return void this.held.push(BAD_FRAME);
    if (this.beginRefused) return;
    const s = this.opts.store.env.staging;
    if (s && !s.complete) this.nak(s.have);
  }

  private nak(have: number): void {
    if (this.nakedAt === have) return;
    this.nakedAt = have;
    this.send(MessageType.nak, encodeU32(have));
  }

  private onFrame(f: Frame) {
    if (this.held) return void this.held.push(f);
    try {
      switch (f.type) {
        case MessageType.info:
          return this.onInfo();
        case MessageType.begin:
        case MessageType.verify:
          // Both need the staged image settled (written, checked, recorded): wait for its commit, and hold
          // what follows.
          if (this.committing) {
            this.held = [f];
            const release = () => this.releaseHeld();
            return void this.committing.done.then(release, release);
          }
          return f.type === MessageType.begin ? this.onBegin(f.body) : this.onVerify();
        case MessageType.data:
          return this.onData(f.body, false);
        case MessageType.dataZ:
          if ((this.encodings & ENCODING_DEFLATE) === 0)
            return this.error('FLASH_FRAME_INVALID', 'DATA_Z is not among the encodings this board offers');
          return this.onData(f.body, true);
        case MessageType.end:
          return void this.onEnd().catch((err) => this.fault(err));
        case MessageType.boot:
          return void this.onBoot();
        default:
          if (isDeviceCommand(f.type)) {
            // The device answers on its console (the bootloader forwards its frame): not us.
            if (this.opts.toDevice?.(encodeFrame(f.type, f.body))) return;
            return this.error('DEVICE_NOT_RUNNING', 'no device image is running on this board');
          }
          return this.error('FLASH_FRAME_INVALID', `unknown message type 0x${f.type.toString(16)}`);
      }
    } catch (err) {
      this.fault(err);
    }
  }

  private releaseHeld(): void {
    const frames = this.held ?? [];
    this.held = undefined;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      if (f === BAD_FRAME) this.onBadFrame();
      else this.onFrame(f);
      // It waits again (another commit): the rest stay behind it, in order.
      if (this.held) return void (this.held as Frame[]).push(...frames.slice(i + 1));
    }
  }

  private fault(err: unknown): void {
    if (err instanceof IosnetError) this.error(err.code, err.message);
    else this.error('FLASH_BOARD_FAULT', (err as Error).message);
  }

  private onInfo() {
    const { env, slotBytes } = this.opts.store;
    const s = env.staging;
    this.send(
      MessageType.infoOk,
      encodeInfo({
        protocolVersion: PROTOCOL_VERSION,
        boardId: env.boardId,
        slotBytes,
        maxChunkBytes: DEFAULT_CHUNK_BYTES,
        window: this.opts.window ?? DEFAULT_WINDOW,
        activeSlot: env.active,
        activeVersion: env.active ? (env.slots[env.active]?.version ?? null) : null,
        staged: s ? { imageSha256: fromHex(s.imageSha256), imageSize: s.imageSize, haveBytes: s.have } : null,
        encodings: this.encodings,
      }),
    );
  }

  private onBegin(body: Uint8Array) {
    const { store, crypto } = this.opts;
    // Cleared just before BEGIN_OK: any refusal below (an ERROR answer or a throw) leaves it set.
    this.beginRefused = true;
    const req = decodeBegin(body);
    if (this.booting) return this.error('FLASH_BUSY', 'a boot is in progress');
    if (req.imageSize > store.slotBytes) {
      return this.error(
        'IMAGE_TOO_LARGE',
        `image of ${req.imageSize} bytes exceeds the ${store.slotBytes}-byte slot`,
      );
    }
    // The header check needs only the manifest: a wrong board or signer is refused before any data.
    const manifest = verifyManifest(crypto, req.manifest, req.signature, {
      releaseKey: fromHex(store.env.releaseKey),
      boardId: store.env.boardId,
    });
    const header = encodeImageHeader(req.manifest, req.signature, manifest.size);
    if (header.length + manifest.size !== req.imageSize) {
      return this.error(
        'IMAGE_INVALID',
        `an image with this manifest is ${header.length + manifest.size} bytes, not ${req.imageSize}`,
      );
    }
    const sha = toHex(req.imageSha256);
    const s = store.env.staging;
    if (s && s.imageSha256 === sha && s.imageSize === req.imageSize && !s.complete) {
      this.opts.log?.(`resuming transfer at ${s.have}/${s.imageSize}`);
    } else {
      store.beginStaged({
        slot: store.inactiveSlot(),
        imageSha256: sha,
        imageSize: req.imageSize,
        manifest: toHex(req.manifest),
        signature: toHex(req.signature),
        have: 0,
        complete: false,
      });
      this.opts.log?.(`new transfer: ${req.imageSize} bytes to slot ${store.env.staging?.slot}`);
    }
    const staging = store.env.staging!;
    if (this.hashes?.staging !== staging || this.hashes.at !== staging.have) {
      // A new transfer, or a resume after a power loss: hash what the slot holds so far (once).
      this.hashes = {
        staging,
        image: createSha256Stream(),
        payload: createSha256Stream(),
        header,
        received: new Uint8Array(header.length),
        payloadSha256: manifest.sha256,
        at: 0,
      };
      if (staging.have > 0) this.feed(store.read(staging.slot, staging.have), 0);
    }
    this.nakedAt = -1;
    this.beginRefused = false;
    this.send(MessageType.beginOk, encodeU32(staging.have));
  }

  private feed(bytes: Uint8Array, offset: number): void {
    const h = this.hashes!;
    h.image.update(bytes);
    const payloadStart = h.header.length;
    if (offset < payloadStart) h.received.set(bytes.subarray(0, payloadStart - offset), offset);
    if (offset + bytes.length > payloadStart)
      h.payload.update(offset >= payloadStart ? bytes : bytes.subarray(payloadStart - offset));
    h.at = offset + bytes.length;
  }

  /** DATA, or DATA_Z (`deflated`): inflated only when it is the next chunk, else answered as DATA is. */
  private onData(body: Uint8Array, deflated: boolean) {
    const { store } = this.opts;
    // The host streamed it behind a BEGIN that was refused: that ERROR was the answer.
    if (this.beginRefused) return;
    const s = store.env.staging;
    if (!s) return this.error('FLASH_NO_TRANSFER', 'DATA without a BEGIN');
    const { offset, bytes: sent } = decodeData(body);
    if (s.complete) {
      // A retransmission that crossed the last ACK (the host timed out and went back): the image is whole.
      this.send(MessageType.ack, encodeU32(s.have));
    } else if (offset === s.have) {
      const bytes = deflated ? inflateChunk(sent) : sent;
      if (!bytes)
        return this.error('FLASH_FRAME_INVALID', `DATA_Z does not inflate to 1-${DEFAULT_CHUNK_BYTES} bytes`);
      if (offset + bytes.length > s.imageSize)
        return this.error('FLASH_FRAME_INVALID', 'data past the image size');
      this.feed(bytes, offset);
      store.append(bytes);
      if (s.have === s.imageSize) this.commit(s);
      this.send(MessageType.ack, encodeU32(s.have));
    } else if (offset < s.have) {
      // A retransmission of bytes already held (the host went back after a lost ACK): acknowledge again.
      this.send(MessageType.ack, encodeU32(s.have));
    } else {
      this.nak(s.have);
    }
  }

  /**
   * All bytes are here: the whole-image hash must be BEGIN's, the header bytes must be the canonical
   * encoding of the manifest and signature BEGIN verified, and the payload must hash to the signed
   * manifest's sha256, so the slot holds exactly an image verifyImage accepts. A failure discards the
   * transfer (the ERROR goes out instead of the last ACK).
   */
  private commit(s: StagedImage): void {
    const { store } = this.opts;
    const h = this.hashes;
    this.hashes = undefined;
    try {
      if (h?.staging !== s || h.at !== s.imageSize)
        throw new IosnetError('FLASH_BOARD_FAULT', 'staged image hash state lost');
      if (toHex(h.image.digest()) !== s.imageSha256) {
        throw new IosnetError('IMAGE_HASH_MISMATCH', 'the flashed bytes do not hash to the announced sha256');
      }
      if (!equalBytes(h.received, h.header) || !equalBytes(h.payload.digest(), h.payloadSha256)) {
        throw new IosnetError(
          'IMAGE_HASH_MISMATCH',
          'the flashed image is not the manifest and signature announced at BEGIN with their payload',
        );
      }
    } catch (err) {
      store.env.staging = null;
      store.persist();
      throw err;
    }
    // Started after the caller's last ACK is written: the syncs it queues on the thread pool (several ms
    // under load) would otherwise hold up the ACK's write to the line behind them (measured: 1-5 ms).
    const done = Promise.resolve().then(() => store.completeStaged());
    const committing = { staging: s, done };
    this.committing = committing;
    const settle = () => {
      if (this.committing === committing) this.committing = undefined;
    };
    done.then(settle, settle);
  }

  private async onEnd() {
    const { store } = this.opts;
    const c = this.committing;
    if (c) {
      try {
        await c.done;
      } catch (err) {
        if (store.env.staging === c.staging) store.env.staging = null;
        return this.error('FLASH_BOARD_FAULT', `cannot commit the slot: ${(err as Error).message}`);
      }
    }
    const s = store.env.staging;
    if (!s) return this.error('FLASH_NO_TRANSFER', 'END without a BEGIN');
    if (s.have !== s.imageSize || !s.complete) {
      return this.error('FLASH_INCOMPLETE', `END after ${s.have} of ${s.imageSize} bytes`);
    }
    // Also answers a repeated END (its END_OK was lost): the image was checked and recorded once.
    this.send(MessageType.endOk, encodeSlotText(s.slot, s.imageSha256));
  }

  /** Reads the slot back and hashes it: slow (a full pass), so not part of a flashing session since v2. */
  private onVerify() {
    const { store, crypto } = this.opts;
    const s = store.env.staging;
    const slot = s?.complete ? s.slot : store.env.active;
    if (!slot) return this.error('FLASH_NO_TRANSFER', 'no complete image to verify');
    const size = s?.complete ? s.imageSize : store.env.slots[slot]!.size;
    this.send(MessageType.verifyOk, encodeSlotText(slot, toHex(crypto.sha256(store.read(slot, size)))));
  }

  private async onBoot() {
    const { store } = this.opts;
    await this.committing?.done.catch(() => {});
    const s = store.env.staging;
    if (!s?.complete) return this.error('FLASH_NO_TRANSFER', 'no verified image staged (send END first)');
    if (this.booting) return this.error('FLASH_BUSY', 'a boot is in progress');
    this.booting = true;
    try {
      const result = await this.opts.trialBoot(s.slot);
      if (result.ok) this.send(MessageType.bootOk, encodeSlotText(s.slot, store.env.slots[s.slot]!.version));
      else this.error('FLASH_BOOT_FAILED', result.reason);
    } finally {
      this.booting = false;
    }
  }
}

/**
 * A DATA_Z chunk's bytes: at most the chunk size INFO_OK advertises (zlib stops there, so a deflate bomb costs
 * one chunk of RAM), at least one byte, and the body exactly one raw deflate stream (nothing after its last
 * block); undefined for anything else.
 */
function inflateChunk(deflated: Uint8Array): Uint8Array | undefined {
  try {
    const { buffer, engine } = inflateRawSync(deflated, {
      maxOutputLength: DEFAULT_CHUNK_BYTES,
      info: true,
    }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    return buffer.length > 0 && engine.bytesWritten === deflated.length ? buffer : undefined;
  } catch {
    return undefined;
  }
}
