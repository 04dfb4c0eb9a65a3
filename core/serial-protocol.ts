/**
 * The serial protocol's wire codec (docs/flashing.md): SLIP framing (RFC 1055), a CRC-32 per frame, and the
 * message bodies. Every end uses it — the host (flash-scripts/flash.ts, register.ts), the board emulator and
 * the device image answering signing commands on its console (device/console-commands.ts) — so it lives in
 * core, which all of them may import. No I/O here. Nobody else encodes protocol bytes by hand.
 */
import { CborReader, CborWriter } from './cbor.js';
import { IosnetError } from './errors.js';

/**
 * Version 3 (docs/flashing.md §12): version 2 (32 KiB chunks, a window counted in bytes, END_OK carries the
 * slot's hash) plus DATA_Z, a chunk sent deflate-compressed, which a board offers in INFO_OK's `encodings`.
 * INFO_OK's first field is the protocol version in every version, so a host reads it before anything else and
 * refuses a board that speaks another one.
 */
export const PROTOCOL_VERSION = 3;

/** INFO_OK `encodings` bit: the board accepts DATA_Z (a chunk as raw deflate, RFC 1951). */
export const ENCODING_DEFLATE = 1;

/** RFC 1055 SLIP special bytes. */
export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
export const SLIP_ESC_END = 0xdc;
export const SLIP_ESC_ESC = 0xdd;

/**
 * Unescaped frame bytes (type + body + CRC): a 32 KiB chunk plus its 4-byte offset fits. 32 KiB chunks, not
 * 4 KiB: per-frame costs (an ACK each way, an event-loop turn, a file write on the board) dominated a 4 KiB
 * transfer (measured: docs/flashing.md §12). CRC-32 still detects every 1-3 bit error and every burst up to
 * 32 bits in a frame this size, and the image's sha256 at END covers the rest.
 */
export const MAX_FRAME_BYTES = 32 * 1024 + 64;
export const DEFAULT_CHUNK_BYTES = 32 * 1024;
/** Chunks in flight beyond the last acknowledged byte (256 KiB). */
export const DEFAULT_WINDOW = 8;

export const MessageType = {
  info: 0x01,
  begin: 0x02,
  data: 0x03,
  end: 0x04,
  /** DATA with the chunk as raw deflate (RFC 1951); offsets, ACKs and NAKs still count image bytes. */
  dataZ: 0x07,
  verify: 0x05,
  boot: 0x06,
  infoOk: 0x81,
  beginOk: 0x82,
  ack: 0x83,
  nak: 0x84,
  endOk: 0x85,
  verifyOk: 0x86,
  bootOk: 0x87,
  console: 0x90,
  /** Device signing commands (0xA0-0xAF), answered by the running device, not the bootloader (§7, §11). */
  signRegistration: 0xa0,
  registrationSigned: 0xa1,
  error: 0xee,
} as const;

/** Frame types the bootloader passes to (and from) the running device: its signing commands. */
export function isDeviceCommand(type: number): boolean {
  return type >= 0xa0 && type <= 0xaf;
}
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

export type FlashErrorCode =
  | 'FLASH_FRAME_CRC'
  | 'FLASH_FRAME_INVALID'
  | 'FLASH_NO_ANSWER'
  | 'FLASH_PORT_BUSY'
  | 'FLASH_PORT_ERROR'
  | 'FLASH_WRONG_BOARD'
  | 'FLASH_PROTOCOL_MISMATCH'
  | 'FLASH_REFUSED'
  | 'FLASH_VERIFY_FAILED'
  | 'FLASH_BOOT_FAILED'
  | 'FLASH_ABORTED';

export class FlashError extends IosnetError<FlashErrorCode> {}

// --- CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320: the one zlib, PNG and `crc32` compute) ------------
/**
 * Slice-by-8 tables: table k maps a byte to its CRC contribution k bytes further on. Processing 8 bytes per
 * step is ~4x faster than the byte-wise loop (measured), and the CRC of every DATA byte is computed on both
 * ends. zlib.crc32 would be faster still but is not in Node 18 (boards) and core does no node: imports.
 */
const CRC_TABLES = /* @__PURE__ */ (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** A CRC-32/IEEE implementation: `crc` is the running value of the bytes before. */
export type Crc32 = (bytes: Uint8Array, crc?: number) => number;

export function crc32(bytes: Uint8Array, crc = 0): number {
  const t = CRC_TABLES;
  let c = ~crc >>> 0;
  let i = 0;
  const n = bytes.length;
  for (const last = n - 8; i <= last; i += 8) {
    const lo = (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    c =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// --- frames --------------------------------------------------------------------------------------------
export interface Frame {
  readonly type: number;
  readonly body: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * type || body || crc32(type || body) big-endian, SLIP-escaped, between two END bytes. `crc`: another
 * implementation of the same CRC (a host's native one, flash-scripts/native-framing.ts).
 */
export function encodeFrame(type: number, body: Uint8Array = EMPTY, crc: Crc32 = crc32): Uint8Array {
  return encodeFrameParts(type, EMPTY, body, crc);
}

/**
 * A DATA frame straight from the image (no intermediate body copy: every image byte passes here), or, with
 * `type` DATA_Z, one whose bytes are the chunk's raw deflate.
 */
export function encodeDataFrame(
  offset: number,
  bytes: Uint8Array,
  crc: Crc32 = crc32,
  type: typeof MessageType.data | typeof MessageType.dataZ = MessageType.data,
): Uint8Array {
  return encodeFrameParts(type, encodeU32(offset), bytes, crc);
}

/**
 * Escaping copies the runs between special bytes in bulk (found with indexOf, native); the byte-wise loop
 * it replaces took ~50 µs per KiB here, more than the pty itself needs to carry the byte (measured).
 */
function encodeFrameParts(type: number, head: Uint8Array, body: Uint8Array, crcOf: Crc32): Uint8Array {
  const rawLength = 1 + head.length + body.length + 4;
  if (rawLength > MAX_FRAME_BYTES)
    throw new RangeError(`frame of ${rawLength} bytes exceeds ${MAX_FRAME_BYTES}`);
  const pre = new Uint8Array(1 + head.length);
  pre[0] = type;
  pre.set(head, 1);
  const crc = crcOf(body, crcOf(pre));
  const tail = new Uint8Array(4);
  new DataView(tail.buffer).setUint32(0, crc);
  const parts = [pre, body, tail];
  let specials = 0;
  for (const p of parts) specials += countSpecials(p);
  const out = new Uint8Array(rawLength + specials + 2);
  let n = 0;
  out[n++] = SLIP_END;
  for (const p of parts) n = escapeInto(p, out, n);
  out[n] = SLIP_END;
  return out;
}

function countSpecials(p: Uint8Array): number {
  let count = 0;
  for (let i = p.indexOf(SLIP_END); i >= 0; i = p.indexOf(SLIP_END, i + 1)) count++;
  for (let i = p.indexOf(SLIP_ESC); i >= 0; i = p.indexOf(SLIP_ESC, i + 1)) count++;
  return count;
}

function escapeInto(p: Uint8Array, out: Uint8Array, at: number): number {
  let n = at;
  let from = 0;
  let nextEnd = p.indexOf(SLIP_END);
  let nextEsc = p.indexOf(SLIP_ESC);
  while (nextEnd >= 0 || nextEsc >= 0) {
    const isEnd = nextEsc < 0 || (nextEnd >= 0 && nextEnd < nextEsc);
    const at2 = isEnd ? nextEnd : nextEsc;
    out.set(p.subarray(from, at2), n);
    n += at2 - from;
    out[n++] = SLIP_ESC;
    out[n++] = isEnd ? SLIP_ESC_END : SLIP_ESC_ESC;
    from = at2 + 1;
    if (isEnd) nextEnd = p.indexOf(SLIP_END, from);
    else nextEsc = p.indexOf(SLIP_ESC, from);
  }
  out.set(p.subarray(from), n);
  return n + p.length - from;
}

/** Checks the CRC of one unescaped frame; the body is a copy. */
export function parseFrame(raw: Uint8Array, crc: Crc32 = crc32): Frame {
  checkFrame(raw, crc);
  return { type: raw[0]!, body: raw.slice(1, raw.length - 4) };
}

function checkFrame(raw: Uint8Array, crc: Crc32): void {
  if (raw.length < 5)
    throw new FlashError('FLASH_FRAME_INVALID', `frame of ${raw.length} bytes is too short`);
  const bodyEnd = raw.length - 4;
  const want = new DataView(raw.buffer, raw.byteOffset, raw.length).getUint32(bodyEnd);
  if (crc(raw.subarray(0, bodyEnd)) >>> 0 !== want)
    throw new FlashError('FLASH_FRAME_CRC', 'frame CRC mismatch');
}

/** Frames below this size are copied out of the decoder's buffer (which is then reused). */
const SMALL_FRAME_BYTES = 1024;

/**
 * Streaming SLIP decoder. Bytes are accumulated until END; empty frames (back-to-back END) are skipped, so
 * a sender may start every frame with END to flush line noise. A frame over MAX_FRAME_BYTES, or with a bad
 * escape, is dropped up to the next END and reported as a bad frame (the receiver NAKs, docs §Errors).
 * Runs between special bytes are copied in bulk (indexOf: memchr when the chunks are Buffers), not byte by
 * byte. A large frame's body is a view of the buffer it was unescaped into, which is never written again: the
 * receiver may keep it (a board queues DATA bodies for an asynchronous write) without a copy.
 */
export class SlipDecoder {
  private buf = new Uint8Array(MAX_FRAME_BYTES);
  private len = 0;
  private escaped = false;
  private broken = false;

  /** `crc`: another implementation of the same CRC (a host's native one). */
  constructor(private readonly crc: Crc32 = crc32) {}

  /** Calls onFrame for each good frame and onBad for each frame that fails its CRC or framing. */
  push(bytes: Uint8Array, onFrame: (f: Frame) => void, onBad: (err: FlashError) => void): void {
    const n = bytes.length;
    let i = 0;
    // Cached positions of the next END / ESC at or after i (-1: none left in this chunk).
    let nextEnd = -2;
    let nextEsc = -2;
    while (i < n) {
      if (nextEnd !== -1 && nextEnd < i) nextEnd = bytes.indexOf(SLIP_END, i);
      if (this.broken) {
        if (nextEnd < 0) return;
        i = nextEnd;
      } else if (this.escaped) {
        const b = bytes[i]!;
        if (b === SLIP_END) {
          this.broken = true;
          continue;
        }
        this.escaped = false;
        if (b === SLIP_ESC_END) this.append(SLIP_END);
        else if (b === SLIP_ESC_ESC) this.append(SLIP_ESC);
        else this.broken = true;
        i++;
        continue;
      } else {
        if (nextEsc !== -1 && nextEsc < i) nextEsc = bytes.indexOf(SLIP_ESC, i);
        let stop = n;
        if (nextEnd >= 0) stop = nextEnd;
        if (nextEsc >= 0 && nextEsc < stop) stop = nextEsc;
        if (stop > i) {
          if (this.len + (stop - i) > MAX_FRAME_BYTES) this.broken = true;
          else {
            this.buf.set(bytes.subarray(i, stop), this.len);
            this.len += stop - i;
          }
          i = stop;
          continue;
        }
        if (bytes[i] === SLIP_ESC) {
          this.escaped = true;
          i++;
          continue;
        }
      }
      // bytes[i] is END: the frame (if any) is complete.
      if (this.broken) onBad(new FlashError('FLASH_FRAME_INVALID', 'oversize or badly escaped frame'));
      else if (this.len > 0) {
        let frame: Frame | undefined;
        try {
          frame = this.take();
        } catch (err) {
          onBad(err as FlashError);
        }
        if (frame) onFrame(frame);
      }
      this.len = 0;
      this.escaped = false;
      this.broken = false;
      i++;
    }
  }

  private append(b: number): void {
    if (this.len >= MAX_FRAME_BYTES) this.broken = true;
    else this.buf[this.len++] = b;
  }

  /** The frame in buf[0, len), CRC-checked: a small body copied, a large one handed over with the buffer. */
  private take(): Frame {
    const raw = this.buf.subarray(0, this.len);
    if (this.len < SMALL_FRAME_BYTES) return parseFrame(raw, this.crc);
    checkFrame(raw, this.crc);
    this.buf = new Uint8Array(MAX_FRAME_BYTES);
    return { type: raw[0]!, body: raw.subarray(1, raw.length - 4) };
  }
}

// --- message bodies --------------------------------------------------------------------------------------
export interface StagedTransfer {
  readonly imageSha256: Uint8Array;
  readonly imageSize: number;
  /** Bytes of the image the board holds durably (a prefix): the host resumes from here. */
  readonly haveBytes: number;
}

export interface BoardInfo {
  readonly protocolVersion: number;
  readonly boardId: string;
  readonly slotBytes: number;
  readonly maxChunkBytes: number;
  readonly window: number;
  /** 'a' | 'b' | null (nothing bootable yet). */
  readonly activeSlot: string | null;
  readonly activeVersion: string | null;
  readonly staged: StagedTransfer | null;
  /** ENCODING_* bits: the DATA encodings the board accepts besides plain DATA (version 3). */
  readonly encodings: number;
}

export interface BeginRequest {
  readonly imageSize: number;
  readonly imageSha256: Uint8Array;
  readonly manifest: Uint8Array;
  readonly signature: Uint8Array;
}

function wrap<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof FlashError) throw err;
    throw new FlashError('FLASH_FRAME_INVALID', `${what}: ${(err as Error).message}`);
  }
}

export function encodeInfo(i: BoardInfo): Uint8Array {
  const w = new CborWriter()
    .array(9)
    .uint(i.protocolVersion)
    .text(i.boardId)
    .uint(i.slotBytes)
    .uint(i.maxChunkBytes)
    .uint(i.window);
  if (i.activeSlot === null) w.null();
  else w.text(i.activeSlot);
  if (i.activeVersion === null) w.null();
  else w.text(i.activeVersion);
  if (i.staged === null) w.null();
  else w.array(3).bytes(i.staged.imageSha256).uint(i.staged.imageSize).uint(i.staged.haveBytes);
  w.uint(i.encodings);
  return w.finish();
}

/**
 * INFO_OK, refused with FLASH_PROTOCOL_MISMATCH unless the board speaks this protocol version: the version is
 * the first field in every version, read before the rest (whose layout another version may change).
 */
export function decodeInfo(body: Uint8Array): BoardInfo {
  const version = wrap('info', () => {
    const r = new CborReader(body);
    r.array('info', { max: 64 });
    return r.uint('protocolVersion');
  });
  if (version !== PROTOCOL_VERSION) {
    throw new FlashError(
      'FLASH_PROTOCOL_MISMATCH',
      `the board speaks flashing protocol version ${version}; this host speaks version ${PROTOCOL_VERSION}`,
      { boardVersion: version, hostVersion: PROTOCOL_VERSION },
    );
  }
  return wrap('info', () => {
    const r = new CborReader(body);
    r.array('info', 9);
    const info: BoardInfo = {
      protocolVersion: r.uint('protocolVersion'),
      boardId: r.text('boardId', 32),
      slotBytes: r.uint('slotBytes'),
      maxChunkBytes: r.uint('maxChunkBytes', MAX_FRAME_BYTES),
      window: r.uint('window', 256),
      activeSlot: r.nullIf() ? null : r.text('activeSlot', 1),
      activeVersion: r.nullIf() ? null : r.text('activeVersion', 64),
      staged: r.nullIf()
        ? null
        : (() => {
            r.array('staged', 3);
            return {
              imageSha256: r.bytesField('staged.imageSha256', 32),
              imageSize: r.uint('staged.imageSize'),
              haveBytes: r.uint('staged.haveBytes'),
            };
          })(),
      encodings: r.uint('encodings', 0xffff_ffff),
    };
    r.end('info');
    return info;
  });
}

export function encodeBegin(b: BeginRequest): Uint8Array {
  return new CborWriter()
    .array(4)
    .uint(b.imageSize)
    .bytes(b.imageSha256)
    .bytes(b.manifest)
    .bytes(b.signature)
    .finish();
}

export function decodeBegin(body: Uint8Array): BeginRequest {
  return wrap('begin', () => {
    const r = new CborReader(body);
    r.array('begin', 4);
    const b = {
      imageSize: r.uint('imageSize'),
      imageSha256: r.bytesField('imageSha256', 32),
      manifest: r.bytesField('manifest', { max: 1024 }),
      signature: r.bytesField('signature', 64),
    };
    r.end('begin');
    return b;
  });
}

/** u32be(value): BEGIN_OK (resume offset), ACK (next offset), NAK (expected offset). */
export function encodeU32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value);
  return b;
}

export function decodeU32(body: Uint8Array, what: string): number {
  if (body.length !== 4)
    throw new FlashError('FLASH_FRAME_INVALID', `${what}: expected 4 bytes, got ${body.length}`);
  return new DataView(body.buffer, body.byteOffset, 4).getUint32(0);
}

/** DATA body: u32be(offset) || bytes (DATA_Z: || the raw deflate of the bytes). */
export function encodeData(offset: number, bytes: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 + bytes.length);
  new DataView(b.buffer).setUint32(0, offset);
  b.set(bytes, 4);
  return b;
}

export function decodeData(body: Uint8Array): { offset: number; bytes: Uint8Array } {
  if (body.length < 5) throw new FlashError('FLASH_FRAME_INVALID', 'data: too short');
  return { offset: decodeU32(body.subarray(0, 4), 'data'), bytes: body.subarray(4) };
}

/** END_OK, VERIFY_OK and BOOT_OK: [slot, text] (the slot image's sha256 hex for END_OK and VERIFY_OK, version for BOOT_OK). */
export function encodeSlotText(slot: string, text: string): Uint8Array {
  return new CborWriter().array(2).text(slot).text(text).finish();
}

export function decodeSlotText(body: Uint8Array, what: string): { slot: string; text: string } {
  return wrap(what, () => {
    const r = new CborReader(body);
    r.array(what, 2);
    const v = { slot: r.text('slot', 1), text: r.text('text', 128) };
    r.end(what);
    return v;
  });
}

/** ERROR: [code, message]; codes are ImageErrorCode / FlashErrorCode values (docs §Errors). */
export function encodeErrorBody(code: string, message: string): Uint8Array {
  return new CborWriter().array(2).text(code).text(message.slice(0, 400)).finish();
}

export function decodeErrorBody(body: Uint8Array): { code: string; message: string } {
  return wrap('error', () => {
    const r = new CborReader(body);
    r.array('error', 2);
    const v = { code: r.text('code', 64), message: r.text('message', 1600) };
    r.end('error');
    return v;
  });
}

// --- device signing commands (docs/flashing.md §11) -------------------------------------------------------
/** SIGN_REGISTRATION: the owner (sender) of the register-device transaction and its terms. */
export interface SignRegistrationRequest {
  readonly owner: Uint8Array;
  readonly nonce: number;
  readonly fee: bigint;
  readonly expiry: number;
}

/** REGISTRATION_SIGNED: the fields of the body the device signed (the owner rebuilds it) and its signature. */
export interface SignedRegistration {
  readonly txId: Uint8Array;
  readonly chainId: string;
  readonly nonce: number;
  readonly expiry: number;
  readonly fee: bigint;
  readonly devicePublicKey: Uint8Array;
  readonly boardId: string;
  readonly hardwareSerial: string;
  readonly deviceSignature: Uint8Array;
}

export function encodeSignRegistration(q: SignRegistrationRequest): Uint8Array {
  return new CborWriter().array(4).bytes(q.owner).uint(q.nonce).uint(q.fee).uint(q.expiry).finish();
}

export function decodeSignRegistration(body: Uint8Array): SignRegistrationRequest {
  return wrap('sign-registration', () => {
    const r = new CborReader(body);
    r.array('sign-registration', 4);
    const q = {
      owner: r.bytesField('owner', 32),
      nonce: r.uint('nonce'),
      fee: r.u64('fee'),
      expiry: r.uint('expiry'),
    };
    r.end('sign-registration');
    return q;
  });
}

export function encodeSignedRegistration(s: SignedRegistration): Uint8Array {
  return new CborWriter(512)
    .array(9)
    .bytes(s.txId)
    .text(s.chainId)
    .uint(s.nonce)
    .uint(s.expiry)
    .uint(s.fee)
    .bytes(s.devicePublicKey)
    .text(s.boardId)
    .text(s.hardwareSerial)
    .bytes(s.deviceSignature)
    .finish();
}

export function decodeSignedRegistration(body: Uint8Array): SignedRegistration {
  return wrap('registration-signed', () => {
    const r = new CborReader(body);
    r.array('registration-signed', 9);
    const s = {
      txId: r.bytesField('txId', 32),
      chainId: r.text('chainId', 32),
      nonce: r.uint('nonce'),
      expiry: r.uint('expiry'),
      fee: r.u64('fee'),
      devicePublicKey: r.bytesField('devicePublicKey', 32),
      boardId: r.text('boardId', 32),
      hardwareSerial: r.text('hardwareSerial', 64),
      deviceSignature: r.bytesField('deviceSignature', 64),
    };
    r.end('registration-signed');
    return s;
  });
}
