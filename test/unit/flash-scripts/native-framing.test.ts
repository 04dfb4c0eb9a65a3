/**
 * flash-scripts/native-framing.ts against the reference codec (core/serial-protocol.ts): the same bytes on
 * the wire for every frame, and the same frames (or the same refusals) out of every byte stream, however
 * it is split into chunks.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeDataFrame as coreEncodeDataFrame,
  encodeFrame as coreEncodeFrame,
  type Frame,
  MAX_FRAME_BYTES,
  MessageType,
  SLIP_END,
  SLIP_ESC,
  SlipDecoder,
} from '../../../core/serial-protocol.js';
import {
  encodeDataFrame,
  encodeFrame,
  FrameDecoder,
  nativeCrc32,
} from '../../../flash-scripts/native-framing.js';

interface Decoded {
  frames: Frame[];
  bad: string[];
}

function run(
  decoder: { push: SlipDecoder['push'] },
  bytes: Uint8Array,
  splitEvery: number,
  asBuffer: boolean,
): Decoded {
  const frames: Frame[] = [];
  const bad: string[] = [];
  for (let i = 0; i < bytes.length; i += splitEvery) {
    const part = bytes.slice(i, i + splitEvery);
    decoder.push(
      asBuffer ? Buffer.from(part) : part,
      (f) => frames.push({ type: f.type, body: new Uint8Array(f.body) }),
      (e) => bad.push(e.code),
    );
  }
  return { frames, bad };
}

/** Bodies rich in the bytes SLIP escapes, including runs of them and one at every edge. */
function specialBody(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const r = x >>> 24;
    b[i] = r < 40 ? SLIP_END : r < 80 ? SLIP_ESC : r;
  }
  if (n > 0) {
    b[0] = SLIP_ESC;
    b[n - 1] = SLIP_END;
  }
  return b;
}

describe('native framing (Node ends) against the reference codec', () => {
  it('uses zlib.crc32 on this Node', () => {
    expect(nativeCrc32).toBe(true);
  });

  it('encodes every frame byte for byte like core, from Uint8Arrays and Buffers', () => {
    for (const n of [0, 1, 2, 5, 100, 4096, 32768]) {
      for (const seed of [1, 2]) {
        const body = specialBody(n, seed);
        for (const b of [body, Buffer.from(body)]) {
          expect(new Uint8Array(encodeFrame(MessageType.ack, b))).toEqual(
            coreEncodeFrame(MessageType.ack, body),
          );
          if (n > 0) {
            for (const offset of [0, 0xc0, 0xdbc0dbc0, 0xffffffff]) {
              expect(new Uint8Array(encodeDataFrame(offset, b))).toEqual(coreEncodeDataFrame(offset, body));
            }
          }
        }
      }
    }
    expect(() => encodeDataFrame(0, new Uint8Array(MAX_FRAME_BYTES))).toThrow(RangeError);
  });

  it('decodes good, corrupted, oversize, badly escaped and truncated frames like core, at any split', () => {
    const good = [
      coreEncodeFrame(MessageType.info),
      coreEncodeDataFrame(32768, specialBody(32768, 3)),
      coreEncodeFrame(MessageType.ack, specialBody(4, 4)),
      coreEncodeDataFrame(0, specialBody(1500, 5)),
    ];
    const corrupted = coreEncodeFrame(MessageType.data, specialBody(300, 6)).slice();
    corrupted[150] = corrupted[150] === 0x00 ? 0x01 : 0x00;
    const oversize = new Uint8Array(MAX_FRAME_BYTES + 10).fill(0x41);
    const stream = [
      new Uint8Array([SLIP_END, SLIP_END]),
      good[0]!,
      corrupted,
      good[1]!,
      new Uint8Array([SLIP_END, 0x41, SLIP_ESC, 0x41, 0x42, SLIP_END]), // bad escape
      new Uint8Array([SLIP_END, 0x41, SLIP_ESC, SLIP_END]), // END right after ESC
      new Uint8Array([SLIP_END, 0x01, 0x02, SLIP_END]), // shorter than type + CRC
      new Uint8Array([SLIP_END]),
      oversize,
      new Uint8Array([SLIP_END]),
      good[2]!,
      good[3]!,
      // line noise before a frame, without a leading END of its own
      new Uint8Array([0x11, 0x22]),
      good[2]!,
    ];
    const bytes = new Uint8Array(stream.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of stream) {
      bytes.set(p, at);
      at += p.length;
    }
    const reference = run(new SlipDecoder(), bytes, bytes.length, false);
    expect(reference.frames.length).toBe(5);
    expect(reference.bad.length).toBeGreaterThan(4);
    for (const split of [1, 2, 3, 7, 64, 1000, 4095, 32768, bytes.length]) {
      for (const asBuffer of [false, true]) {
        expect(run(new FrameDecoder(), bytes, split, asBuffer)).toEqual(
          run(new SlipDecoder(), bytes, split, false),
        );
      }
    }
  });

  it('hands out bodies that later frames do not overwrite, as plain Uint8Arrays', () => {
    const d = new FrameDecoder();
    const bodies: Uint8Array[] = [];
    const a = specialBody(32768, 7);
    const b = specialBody(32768, 8);
    for (const wire of [coreEncodeDataFrame(0, a), coreEncodeDataFrame(32768, b), coreEncodeFrame(1)])
      d.push(
        wire,
        (f) => bodies.push(f.body),
        () => {},
      );
    expect(bodies.map((x) => x.length)).toEqual([32772, 32772, 0]);
    expect(bodies[0]!.subarray(4)).toEqual(a);
    expect(bodies[1]!.subarray(4)).toEqual(b);
    expect(Buffer.isBuffer(bodies[0])).toBe(false);
  });
});
