/**
 * The serial protocol's framing (docs/flashing.md §2) for the two ends that run on the host's Node 20:
 * `iosnet flash` (flash.ts) and the emulated board (boards/emulator/board-protocol.ts). It is core's codec
 * (core/serial-protocol.ts, the one the device image uses on Node 18) with zlib's native CRC-32 and with
 * Buffers in, so that its escape scans (indexOf) are memchr: measured on the shared 2-core machine for a
 * 393 KB image, core's slice-by-8 CRC-32 ~0.7-1.0 ms per pass vs zlib.crc32 ~0.12 ms, Uint8Array#indexOf
 * ~0.8 ms per byte value per pass vs Buffer#indexOf ~0.003 ms.
 * test/unit/flash-scripts/native-framing.test.ts cross-checks the bytes and the decoded frames.
 */
import zlib from 'node:zlib';
import {
  encodeDataFrame as coreEncodeDataFrame,
  encodeFrame as coreEncodeFrame,
  crc32 as portableCrc32,
  SlipDecoder,
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

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** core's encodeFrame with the native CRC and memchr scans. */
export function encodeFrame(type: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  return coreEncodeFrame(type, asBuffer(body), crc32);
}

/** core's encodeDataFrame with the native CRC and memchr scans: framed straight from `bytes`. */
export function encodeDataFrame(
  offset: number,
  bytes: Uint8Array,
  type?: Parameters<typeof coreEncodeDataFrame>[3],
): Uint8Array {
  return coreEncodeDataFrame(offset, asBuffer(bytes), crc32, type);
}

/** core's SlipDecoder with the native CRC; chunks are read with Buffer#indexOf (memchr). */
export class FrameDecoder extends SlipDecoder {
  constructor() {
    super(crc32);
  }

  override push(...[chunk, onFrame, onBad]: Parameters<SlipDecoder['push']>): void {
    super.push(asBuffer(chunk), onFrame, onBad);
  }
}
