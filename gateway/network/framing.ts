/**
 * Frames on the byte stream (docs/peer-protocol.md §3): `u32be(length) || body`. During the handshake the
 * body is a CBOR handshake message; afterwards it is AES-256-GCM ciphertext || 16-byte tag of one CBOR
 * PeerMessage, with the 4-byte length prefix as associated data and a 96-bit nonce
 * `0x00000000 || u64be(counter)` from a per-direction counter that starts at 0 and never repeats: the
 * connection closes before it reaches maxFramesPerKey.
 *
 * The reader checks the announced length against its maximum as soon as the 4 header bytes are in, BEFORE
 * buffering the body, so an attacker announcing 4 GiB costs us at most the one socket chunk that carried
 * the header. Incoming chunks are kept in a list and copied once, when a frame is complete (no quadratic
 * Buffer.concat while a 16 MiB frame trickles in as 64 KiB chunks).
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { IosnetError } from '../../core/errors.js';
import { FRAME_HEADER_BYTES, GCM_NONCE_BYTES, GCM_TAG_BYTES, MAX_FRAMES_PER_KEY } from './constants.js';

export type FrameErrorCode = 'FRAME_OVERSIZE' | 'FRAME_DECRYPT_FAILED' | 'NONCE_EXHAUSTED';

export class FrameError extends IosnetError<FrameErrorCode> {}

/** Splits a byte stream into frame bodies. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private head = 0;
  private offset = 0;
  private buffered = 0;
  /** Body length announced by the header already consumed; -1 while waiting for a header. */
  private bodyLength = -1;

  constructor(readonly maxBodyBytes: number) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Bytes received and not yet returned as a frame (a partial frame when the stream ends: truncated). */
  get pendingBytes(): number {
    return this.buffered + (this.bodyLength >= 0 ? FRAME_HEADER_BYTES : 0);
  }

  /** The next complete body, or undefined until more bytes arrive. Throws FRAME_OVERSIZE from the header. */
  next(): Buffer | undefined {
    if (this.bodyLength < 0) {
      if (this.buffered < FRAME_HEADER_BYTES) return undefined;
      const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
      if (length > this.maxBodyBytes) {
        throw new FrameError('FRAME_OVERSIZE', `frame of ${length} bytes exceeds ${this.maxBodyBytes}`, {
          length,
          max: this.maxBodyBytes,
        });
      }
      this.bodyLength = length;
    }
    if (this.buffered < this.bodyLength) return undefined;
    const body = this.take(this.bodyLength);
    this.bodyLength = -1;
    return body;
  }

  /** What is buffered beyond the frames read so far (handed from the handshake to the connection). */
  drain(): Buffer[] {
    if (this.bodyLength >= 0) throw new Error('FrameReader.drain inside a frame');
    const rest = this.chunks.slice(this.head);
    if (rest.length > 0) rest[0] = rest[0]!.subarray(this.offset);
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.buffered = 0;
    return rest;
  }

  /** n bytes off the front: a view when they sit in one chunk, else one copy of exactly n bytes. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[this.head]!;
    if (n === 0) return Buffer.alloc(0);
    if (first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === first.length) this.advance();
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[this.head]!;
      const k = Math.min(c.length - this.offset, n - filled);
      c.copy(out, filled, this.offset, this.offset + k);
      filled += k;
      this.offset += k;
      if (this.offset === c.length) this.advance();
    }
    return out;
  }

  private advance(): void {
    this.chunks[this.head] = EMPTY;
    this.head++;
    this.offset = 0;
    // Compact now and then so the array does not grow with the connection's lifetime.
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);

/** u32be(length) prefix of a body. */
export function frameHeader(bodyLength: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h.writeUInt32BE(bodyLength, 0);
  return h;
}

/** A plain (handshake) frame: header || body. */
export function plainFrame(body: Uint8Array): Buffer {
  return Buffer.concat([frameHeader(body.length), body]);
}

function nonceOf(counter: number): Buffer {
  const nonce = Buffer.alloc(GCM_NONCE_BYTES);
  nonce.writeUInt32BE(Math.floor(counter / 2 ** 32), 4);
  nonce.writeUInt32BE(counter >>> 0, 8);
  return nonce;
}

/** Below this a sealed frame is one Buffer (one write); above, three parts go out as one writev. */
const SINGLE_BUFFER_LIMIT = 16 * 1024;

/** Encrypts one direction of a session. */
export class FrameSealer {
  private counter = 0;
  private readonly key: KeyObject;

  constructor(
    key: Uint8Array,
    readonly maxFrames = MAX_FRAMES_PER_KEY,
  ) {
    // One KeyObject per session: createCipheriv with raw key bytes re-imports them on every frame.
    this.key = createSecretKey(key);
  }

  get framesSealed(): number {
    return this.counter;
  }

  /** The frame's bytes (one or more parts to write in order). Throws NONCE_EXHAUSTED at the limit. */
  seal(plaintext: Uint8Array): Buffer[] {
    if (this.counter >= this.maxFrames) {
      throw new FrameError('NONCE_EXHAUSTED', `sent ${this.counter} frames under one key`, {
        frames: this.counter,
      });
    }
    const header = frameHeader(plaintext.length + GCM_TAG_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonceOf(this.counter++), {
      authTagLength: GCM_TAG_BYTES,
    });
    cipher.setAAD(header);
    const ct = cipher.update(plaintext);
    cipher.final(); // GCM is a stream mode: final() emits no bytes, only computes the tag
    const tag = cipher.getAuthTag();
    if (plaintext.length <= SINGLE_BUFFER_LIMIT) {
      return [Buffer.concat([header, ct, tag], FRAME_HEADER_BYTES + ct.length + GCM_TAG_BYTES)];
    }
    return [header, ct, tag];
  }
}

/** Decrypts one direction of a session. */
export class FrameOpener {
  private counter = 0;
  private readonly key: KeyObject;

  constructor(
    key: Uint8Array,
    readonly maxFrames = MAX_FRAMES_PER_KEY,
  ) {
    this.key = createSecretKey(key);
  }

  private nextNonce(): Buffer {
    if (this.counter >= this.maxFrames) {
      throw new FrameError('NONCE_EXHAUSTED', `received ${this.counter} frames under one key`, {
        frames: this.counter,
      });
    }
    return nonceOf(this.counter++);
  }

  /** Plaintext of one frame body; FRAME_DECRYPT_FAILED if the tag does not authenticate it. */
  open(body: Buffer): Buffer {
    const nonce = this.nextNonce();
    if (body.length < GCM_TAG_BYTES) {
      throw new FrameError('FRAME_DECRYPT_FAILED', `frame of ${body.length} bytes is shorter than a tag`);
    }
    const ctLength = body.length - GCM_TAG_BYTES;
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce, { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(frameHeader(body.length));
    decipher.setAuthTag(body.subarray(ctLength));
    const pt = decipher.update(body.subarray(0, ctLength));
    try {
      decipher.final();
    } catch {
      throw new FrameError('FRAME_DECRYPT_FAILED', 'AES-GCM tag mismatch');
    }
    return pt;
  }

  /** Advances past a frame that is discarded unread (rate limit): the counters must stay in step. */
  skip(): void {
    this.nextNonce();
  }
}
