import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  crc32,
  decodeBegin,
  decodeData,
  decodeInfo,
  ENCODING_DEFLATE,
  encodeBegin,
  encodeData,
  encodeDataFrame,
  encodeFrame,
  encodeInfo,
  type Frame,
  MAX_FRAME_BYTES,
  MessageType,
  PROTOCOL_VERSION,
  SLIP_END,
  SLIP_ESC,
  SlipDecoder,
} from '../../../core/serial-protocol.js';
import { progressLine } from '../../../flash-scripts/progress.js';

function decodeAll(bytes: Uint8Array, splitEvery = bytes.length): { frames: Frame[]; bad: string[] } {
  const d = new SlipDecoder();
  const frames: Frame[] = [];
  const bad: string[] = [];
  for (let i = 0; i < bytes.length; i += splitEvery) {
    d.push(
      bytes.subarray(i, i + splitEvery),
      (f) => frames.push(f),
      (e) => bad.push(e.code),
    );
  }
  return { frames, bad };
}

describe('CRC-32', () => {
  it('matches the IEEE check value and zlib', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const data = new Uint8Array(10_000).map((_, i) => (i * 31) ^ (i >> 3));
    const z = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
    if (z) expect(crc32(data)).toBe(z(data));
    expect(crc32(data.subarray(5000), crc32(data.subarray(0, 5000)))).toBe(crc32(data));
  });

  it('slice-by-8 agrees with the byte-wise definition at every length and alignment', () => {
    const bytewise = (d: Uint8Array) => {
      let c = 0xffffffff;
      for (const b of d) {
        c ^= b;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      }
      return ~c >>> 0;
    };
    const data = new Uint8Array(300).map((_, i) => (i * 197 + 13) & 0xff);
    for (let start = 0; start < 9; start++)
      for (let len = 0; len < 40; len++) {
        const d = data.subarray(start, start + len * 7);
        expect(crc32(d)).toBe(bytewise(d));
      }
  });
});

describe('SLIP frames', () => {
  const body = new Uint8Array([1, SLIP_END, 2, SLIP_ESC, SLIP_END, SLIP_ESC, 0xdc, 0xdd, 255]);

  it('round-trips bodies holding END and ESC bytes, whole or split byte by byte', () => {
    const wire = encodeFrame(0x03, body);
    // Only the two delimiters are END bytes on the wire.
    expect(wire.filter((b) => b === SLIP_END).length).toBe(2);
    for (const split of [wire.length, 1, 3]) {
      const { frames, bad } = decodeAll(new Uint8Array([...wire, ...encodeFrame(0x01)]), split);
      expect(bad).toEqual([]);
      expect(frames).toEqual([
        { type: 0x03, body },
        { type: 0x01, body: new Uint8Array(0) },
      ]);
    }
  });

  it('skips line noise before the first END and reports a frame whose CRC fails', () => {
    const good = encodeFrame(0x05, body);
    const corrupt = encodeFrame(0x05, body);
    corrupt[3]! ^= 0x01;
    const { frames, bad } = decodeAll(new Uint8Array([0x41, 0x42, ...corrupt, ...good]));
    expect(bad).toEqual(['FLASH_FRAME_INVALID', 'FLASH_FRAME_CRC']);
    expect(frames).toEqual([{ type: 0x05, body }]);
  });

  it('drops an oversize frame and a bad escape, and recovers at the next END', () => {
    const huge = new Uint8Array(MAX_FRAME_BYTES + 10).fill(7);
    const badEscape = new Uint8Array([SLIP_END, 1, SLIP_ESC, 0x00, 2, SLIP_END]);
    const { frames, bad } = decodeAll(
      new Uint8Array([SLIP_END, ...huge, SLIP_END, ...badEscape, ...encodeFrame(1)]),
    );
    expect(bad).toEqual(['FLASH_FRAME_INVALID', 'FLASH_FRAME_INVALID']);
    expect(frames.map((f) => f.type)).toEqual([1]);
    expect(() => encodeFrame(3, new Uint8Array(MAX_FRAME_BYTES))).toThrow(RangeError);
  });

  it('encodes a DATA frame straight from the image like encodeFrame(encodeData(...)), at full chunk size', () => {
    const chunk = new Uint8Array(32 * 1024).map((_, i) => (i * 7) & 0xff); // holds END and ESC bytes
    const wire = encodeDataFrame(0x01020304, chunk);
    expect(wire).toEqual(encodeFrame(MessageType.data, encodeData(0x01020304, chunk)));
    const { frames, bad } = decodeAll(wire, 4095);
    expect(bad).toEqual([]);
    expect(decodeData(frames[0]!.body)).toEqual({ offset: 0x01020304, bytes: chunk });
    // DATA_Z: the same body layout under its own type.
    const z = encodeDataFrame(7, chunk.subarray(0, 100), crc32, MessageType.dataZ);
    expect(z).toEqual(encodeFrame(MessageType.dataZ, encodeData(7, chunk.subarray(0, 100))));
  });

  it('refuses a board of another protocol version by its first field, whatever follows', () => {
    const v1 = encodeInfo({
      protocolVersion: 1,
      boardId: 'emu-x64',
      slotBytes: 1024,
      maxChunkBytes: 4096,
      window: 16,
      activeSlot: null,
      activeVersion: null,
      staged: null,
      encodings: 0,
    });
    expect(() => decodeInfo(v1)).toThrow(
      expect.objectContaining({ code: 'FLASH_PROTOCOL_MISMATCH', data: { boardVersion: 1, hostVersion: 3 } }),
    );
    // A later version may change the rest of INFO_OK: [4, "anything", 0] is still named as version 4.
    const v4 = new Uint8Array([0x83, 0x04, 0x68, ...new TextEncoder().encode('anything'), 0x00]);
    expect(() => decodeInfo(v4)).toThrow(/version 4; this host speaks version 3/);
    // Version 2's INFO_OK (eight fields, no encodings) is refused by its version, not misread.
    const v2 = encodeInfo({
      protocolVersion: 2,
      boardId: 'emu-x64',
      slotBytes: 1024,
      maxChunkBytes: 32768,
      window: 8,
      activeSlot: null,
      activeVersion: null,
      staged: null,
      encodings: 0,
    });
    expect(() => decodeInfo(v2)).toThrow(expect.objectContaining({ code: 'FLASH_PROTOCOL_MISMATCH' }));
  });

  it('encodes INFO and BEGIN canonically and decodes them back', () => {
    const info = {
      protocolVersion: PROTOCOL_VERSION,
      boardId: 'emu-x64',
      slotBytes: 2 * 1024 * 1024,
      maxChunkBytes: 32 * 1024,
      window: 8,
      activeSlot: 'a',
      activeVersion: '0.1.0',
      staged: { imageSha256: new Uint8Array(32).fill(9), imageSize: 400_000, haveBytes: 131_072 },
      encodings: ENCODING_DEFLATE,
    };
    expect(decodeInfo(encodeInfo(info))).toEqual(info);
    const empty = { ...info, activeSlot: null, activeVersion: null, staged: null };
    expect(decodeInfo(encodeInfo(empty))).toEqual(empty);
    const begin = {
      imageSize: 5,
      imageSha256: new Uint8Array(32),
      manifest: new Uint8Array([0x86]),
      signature: new Uint8Array(64),
    };
    expect(decodeBegin(encodeBegin(begin))).toEqual(begin);
    expect(() => decodeInfo(new Uint8Array([0x83, 1]))).toThrow(/info/);
  });
});

describe('progress line', () => {
  it('shows percentage, sizes, rate from this run only, ETA and where it resumed', () => {
    const line = progressLine(
      { sentBytes: 600 * 1024, totalBytes: 1000 * 1024, resumedFrom: 400 * 1024 },
      2000,
      10,
    );
    expect(line).toBe('[######....]  60% 600.0 KiB/1000.0 KiB 100.0 KiB/s ETA 0:04 (resumed at 400.0 KiB)');
    expect(progressLine({ sentBytes: 0, totalBytes: 10, resumedFrom: 0 }, 0, 4)).toContain('ETA --:--');
  });
});
