/**
 * The board's side of the flashing protocol (docs/flashing.md): INFO, BEGIN (header check before any data),
 * DATA with go-back-N acknowledgements, END (whole-image check), VERIFY, BOOT. Transport-agnostic: it reads
 * and writes bytes on any Duplex (a SerialPort on a pty, or an in-memory pair in unit tests).
 */
import type { Duplex } from 'node:stream';
import { fromHex, toHex } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError } from '../../core/errors.js';
import {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_WINDOW,
  decodeBegin,
  decodeData,
  encodeErrorBody,
  encodeFrame,
  encodeInfo,
  encodeSlotText,
  encodeU32,
  type Frame,
  isDeviceCommand,
  MessageType,
  PROTOCOL_VERSION,
  SlipDecoder,
} from '../../core/serial-protocol.js';
import { verifyImage, verifyManifest } from '../../flash-scripts/image-format.js';
import type { FlashStore, SlotName } from './flash-store.js';

export type BootResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface BoardProtocolOptions {
  readonly store: FlashStore;
  readonly crypto: Crypto;
  /** Tries the staged slot: resolves when it confirmed (ok) or was rolled back. */
  readonly trialBoot: (slot: SlotName) => Promise<BootResult>;
  readonly log?: (line: string) => void;
  /** Passes a device command frame (0xA0-0xAF, encoded) to the running device; false when none runs. */
  readonly toDevice?: (frame: Uint8Array) => boolean;
}

export class BoardProtocol {
  private readonly opts: BoardProtocolOptions;
  private readonly decoder = new SlipDecoder();
  private stream: Duplex | undefined;
  /** The `have` value a NAK was last sent for: one NAK per gap, not one per out-of-order frame. */
  private nakedAt = -1;
  private booting = false;

  constructor(opts: BoardProtocolOptions) {
    this.opts = opts;
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
    const s = this.opts.store.env.staging;
    if (s && !s.complete) this.nak(s.have);
  }

  private nak(have: number): void {
    if (this.nakedAt === have) return;
    this.nakedAt = have;
    this.send(MessageType.nak, encodeU32(have));
  }

  private onFrame(f: Frame) {
    try {
      switch (f.type) {
        case MessageType.info:
          return this.onInfo();
        case MessageType.begin:
          return this.onBegin(f.body);
        case MessageType.data:
          return this.onData(f.body);
        case MessageType.end:
          return this.onEnd();
        case MessageType.verify:
          return this.onVerify();
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
      if (err instanceof IosnetError) return this.error(err.code, err.message);
      this.error('FLASH_BOARD_FAULT', (err as Error).message);
    }
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
        window: DEFAULT_WINDOW,
        activeSlot: env.active,
        activeVersion: env.active ? (env.slots[env.active]?.version ?? null) : null,
        staged: s ? { imageSha256: fromHex(s.imageSha256), imageSize: s.imageSize, haveBytes: s.have } : null,
      }),
    );
  }

  private onBegin(body: Uint8Array) {
    const { store, crypto } = this.opts;
    const req = decodeBegin(body);
    if (this.booting) return this.error('FLASH_BUSY', 'a boot is in progress');
    if (req.imageSize > store.slotBytes) {
      return this.error(
        'IMAGE_TOO_LARGE',
        `image of ${req.imageSize} bytes exceeds the ${store.slotBytes}-byte slot`,
      );
    }
    // The header check needs only the manifest: a wrong board or signer is refused before any data.
    verifyManifest(crypto, req.manifest, req.signature, {
      releaseKey: fromHex(store.env.releaseKey),
      boardId: store.env.boardId,
    });
    const sha = toHex(req.imageSha256);
    const s = store.env.staging;
    if (s && s.imageSha256 === sha && s.imageSize === req.imageSize && !s.complete) {
      this.opts.log?.(`resuming transfer at ${s.have}/${s.imageSize}`);
    } else {
      store.env.staging = {
        slot: store.inactiveSlot(),
        imageSha256: sha,
        imageSize: req.imageSize,
        manifest: toHex(req.manifest),
        signature: toHex(req.signature),
        have: 0,
        complete: false,
      };
      store.resetDurable();
      store.persist();
      this.opts.log?.(`new transfer: ${req.imageSize} bytes to slot ${store.env.staging.slot}`);
    }
    this.nakedAt = -1;
    this.send(MessageType.beginOk, encodeU32(store.env.staging!.have));
  }

  private onData(body: Uint8Array) {
    const { store } = this.opts;
    const s = store.env.staging;
    if (!s || s.complete) return this.error('FLASH_NO_TRANSFER', 'DATA without a BEGIN');
    const { offset, bytes } = decodeData(body);
    if (offset === s.have) {
      if (offset + bytes.length > s.imageSize)
        return this.error('FLASH_FRAME_INVALID', 'data past the image size');
      store.write(s.slot, offset, bytes);
      store.advance(bytes.length, offset + bytes.length === s.imageSize);
      this.send(MessageType.ack, encodeU32(s.have));
    } else if (offset < s.have) {
      // A retransmission of bytes already held (the host went back after a lost ACK): acknowledge again.
      this.send(MessageType.ack, encodeU32(s.have));
    } else {
      this.nak(s.have);
    }
  }

  private onEnd() {
    const { store, crypto } = this.opts;
    const s = store.env.staging;
    if (!s) return this.error('FLASH_NO_TRANSFER', 'END without a BEGIN');
    if (s.have !== s.imageSize) {
      return this.error('FLASH_INCOMPLETE', `END after ${s.have} of ${s.imageSize} bytes`);
    }
    const bytes = store.read(s.slot, s.imageSize);
    try {
      if (toHex(crypto.sha256(bytes)) !== s.imageSha256) {
        throw new IosnetError('IMAGE_HASH_MISMATCH', 'the flashed bytes do not hash to the announced sha256');
      }
      verifyImage(crypto, bytes, { releaseKey: fromHex(store.env.releaseKey), boardId: store.env.boardId });
    } catch (err) {
      store.env.staging = null;
      store.persist();
      throw err;
    }
    s.complete = true;
    store.persist();
    this.send(MessageType.endOk);
  }

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
