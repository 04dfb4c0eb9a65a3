/**
 * The serial protocol's framing (docs/flashing.md §2: SLIP, RFC 1055, around type || body || CRC-32/IEEE
 * big-endian) for the two ends that run on the host's Node 20: `iosnet flash` (flash.ts, register.ts) and
 * the emulated board (boards/emulator/board-protocol.ts). Byte for byte the wire format of
 * core/serial-protocol.ts, which stays the reference codec and the one the device image uses (Node 18,
 * no node: imports in core); test/unit/flash-scripts/native-framing.test.ts cross-checks the two on the
 * same inputs, including the frames that must be rejected.
 *
 * Why a second implementation of the same bytes: every image byte is framed on one end and unframed on the
 * other, and core's portable code pays per byte for it (measured on the shared 2-core machine, a 393 KB
 * image): its slice-by-8 CRC-32 ~0.7-1.0 ms per pass vs zlib.crc32 ~0.12 ms (zlib's, in Node since
 * 20.15/22.2, not in Node 18); Uint8Array#indexOf, which core uses to find the bytes to escape, is a
 * byte loop (~0.8 ms per byte value per pass) where Buffer#indexOf is memchr (~0.003 ms); and the decoder
 * copies a frame twice (into its buffer, then the body out of it). Here: native CRC, memchr scans, DATA
 * frames built in one allocation straight from the image, and a frame's body handed out as a view of the
 * buffer it was unescaped into (one copy, none for a run without escapes past the copy into that buffer).
 */
import zlib from 'node:zlib';
import {
  FlashError,
  type Frame,
  MAX_FRAME_BYTES,
  MessageType,
  crc32 as portableCrc32,
  SLIP_END,
  SLIP_ESC,
  SLIP_ESC_END,
  SLIP_ESC_ESC,
} from '../core/serial-protocol.js';

/**
 * zlib.crc32 (Node >= 20.15); the portable table-driven one on older Node 20 (same values). Empty input is
 * skipped: zlib's crc32() returns 0, not the running value, for the null data pointer of an empty
 * ArrayBuffer (found by the cross-check test: an empty body's frame had CRC 0).
 */
const zlibCrc32 = typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;
function crc32(data: Uint8Array, value = 0): number {
  if (data.length === 0) return value;
  return zlibCrc32 ? zlibCrc32(data, value) : portableCrc32(data, value);
}

/** True when the native CRC-32 is in use (for the bench's report and the tests). */
export const nativeCrc32 = zlibCrc32 !== undefined;

const EMPTY = Buffer.alloc(0);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function countSpecials(b: Buffer): number {
  let count = 0;
  for (let i = b.indexOf(SLIP_END); i >= 0; i = b.indexOf(SLIP_END, i + 1)) count++;
  for (let i = b.indexOf(SLIP_ESC); i >= 0; i = b.indexOf(SLIP_ESC, i + 1)) count++;
  return count;
}

/** Escapes `p` into `out` at `at`, copying the runs between special bytes in bulk; returns the new end. */
function escapeInto(p: Buffer, out: Buffer, at: number): number {
  let n = at;
  let from = 0;
  let nextEnd = p.indexOf(SLIP_END);
  let nextEsc = p.indexOf(SLIP_ESC);
  while (nextEnd >= 0 || nextEsc >= 0) {
    const isEnd = nextEsc < 0 || (nextEnd >= 0 && nextEnd < nextEsc);
    const special = isEnd ? nextEnd : nextEsc;
    n += p.copy(out, n, from, special);
    out[n++] = SLIP_ESC;
    out[n++] = isEnd ? SLIP_ESC_END : SLIP_ESC_ESC;
    from = special + 1;
    if (isEnd) nextEnd = p.indexOf(SLIP_END, from);
    else nextEsc = p.indexOf(SLIP_ESC, from);
  }
  return n + p.copy(out, n, from);
}

/** END || SLIP(head || body || crc32(head || body) big-endian) || END, in one allocation. */
function encodeParts(head: Buffer, body: Buffer): Buffer {
  const rawLength = head.length + body.length + 4;
  if (rawLength > MAX_FRAME_BYTES)
    throw new RangeError(`frame of ${rawLength} bytes exceeds ${MAX_FRAME_BYTES}`);
  const tail = Buffer.allocUnsafe(4);
  tail.writeUInt32BE(crc32(body, crc32(head)) >>> 0, 0);
  const out = Buffer.allocUnsafe(
    rawLength + countSpecials(head) + countSpecials(body) + countSpecials(tail) + 2,
  );
  let n = 0;
  out[n++] = SLIP_END;
  n = escapeInto(head, out, n);
  n = escapeInto(body, out, n);
  n = escapeInto(tail, out, n);
  out[n] = SLIP_END;
  return out;
}

/** core's encodeFrame, natively: type || body, framed. */
export function encodeFrame(type: number, body: Uint8Array = EMPTY): Buffer {
  const head = Buffer.allocUnsafe(1);
  head[0] = type;
  return encodeParts(head, asBuffer(body));
}

/** core's encodeDataFrame, natively: DATA with u32be(offset) || bytes, framed straight from `bytes`. */
export function encodeDataFrame(offset: number, bytes: Uint8Array): Buffer {
  const head = Buffer.allocUnsafe(5);
  head[0] = MessageType.data;
  head.writeUInt32BE(offset, 1);
  return encodeParts(head, asBuffer(bytes));
}

/** Frames below this size are copied out of the decoder's buffer (which is then reused). */
const SMALL_FRAME_BYTES = 1024;

/**
 * core's SlipDecoder, natively, same rules: bytes accumulate until END; empty frames are skipped; an
 * oversize frame or a bad escape is dropped up to the next END and reported as bad, as is a frame that
 * fails its CRC or is shorter than type + CRC. A large frame's body is a view of the buffer it was
 * unescaped into, and that buffer is never written again: the receiver may keep the body (the emulated
 * board queues DATA bodies for an asynchronous file write) without a copy.
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.allocUnsafe(MAX_FRAME_BYTES);
  private len = 0;
  private escaped = false;
  private broken = false;

  push(chunk: Uint8Array, onFrame: (f: Frame) => void, onBad: (err: FlashError) => void): void {
    const bytes = asBuffer(chunk);
    const n = bytes.length;
    let i = 0;
    // Cached positions of the next END / ESC at or after i (-1: none left in this chunk), so a chunk full
    // of escapes is scanned once, not once per escape.
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
          // END right after ESC: a bad escape; the END then closes the (broken) frame.
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
          else this.len += bytes.copy(this.buf, this.len, i, stop);
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
        const frame = this.take(onBad);
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

  /** The frame in buf[0, len), CRC-checked; its body copied (small) or handed over with the buffer (large). */
  private take(onBad: (err: FlashError) => void): Frame | undefined {
    const len = this.len;
    if (len < 5) {
      onBad(new FlashError('FLASH_FRAME_INVALID', `frame of ${len} bytes is too short`));
      return undefined;
    }
    const raw = this.buf;
    const bodyEnd = len - 4;
    if (crc32(raw.subarray(0, bodyEnd)) >>> 0 !== raw.readUInt32BE(bodyEnd)) {
      onBad(new FlashError('FLASH_FRAME_CRC', 'frame CRC mismatch'));
      return undefined;
    }
    if (len < SMALL_FRAME_BYTES) return { type: raw[0]!, body: new Uint8Array(raw.subarray(1, bodyEnd)) };
    this.buf = Buffer.allocUnsafe(MAX_FRAME_BYTES);
    // A plain Uint8Array view (as core's decoder returns), not a Buffer: Buffer#slice aliases, and
    // comparisons that look at the type would tell the two codecs apart.
    return { type: raw[0]!, body: new Uint8Array(raw.buffer, raw.byteOffset + 1, bodyEnd - 1) };
  }
}
