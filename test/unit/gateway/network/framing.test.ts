/** Frames: the length-prefix reader (bounds before buffering, any chunking, linear time) and the AES-GCM layer. */
import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../../core/bytes.js';
import {
  FrameError,
  FrameOpener,
  FrameReader,
  FrameSealer,
  frameHeader,
  plainFrame,
} from '../../../../gateway/network/framing.js';

const key = Uint8Array.from({ length: 32 }, (_, i) => i);

function readAll(reader: FrameReader): Buffer[] {
  const out: Buffer[] = [];
  for (let f = reader.next(); f !== undefined; f = reader.next()) out.push(Buffer.from(f));
  return out;
}

describe('FrameReader', () => {
  it('returns the same bodies whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.nat(400), { maxLength: 30 }),
        (bodies, cuts) => {
          const stream = Buffer.concat(bodies.map((b) => plainFrame(b)));
          const reader = new FrameReader(1000);
          const got: Buffer[] = [];
          let pos = 0;
          for (const c of cuts) {
            reader.push(stream.subarray(pos, Math.min(stream.length, pos + c)));
            pos = Math.min(stream.length, pos + c);
            got.push(...readAll(reader));
          }
          reader.push(stream.subarray(pos));
          got.push(...readAll(reader));
          expect(got.map((b) => toHex(b))).toEqual(bodies.map((b) => toHex(b)));
          expect(reader.pendingBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses an oversize length from the 4 header bytes alone, before any body byte', () => {
    const reader = new FrameReader(1024);
    reader.push(frameHeader(1025).subarray(0, 2));
    expect(reader.next()).toBeUndefined();
    reader.push(frameHeader(1025).subarray(2));
    expect(() => reader.next()).toThrow(FrameError);
    const r2 = new FrameReader(16 << 20);
    r2.push(frameHeader(0xffff_ffff));
    try {
      r2.next();
      expect.unreachable();
    } catch (e) {
      expect((e as FrameError).code).toBe('FRAME_OVERSIZE');
    }
    const r3 = new FrameReader(1024);
    r3.push(frameHeader(1024));
    expect(r3.next()).toBeUndefined(); // exactly the limit is fine
  });

  it('reports a partial frame as pending (truncation), and drains what follows the last frame', () => {
    const reader = new FrameReader(100);
    reader.push(Buffer.concat([plainFrame(Uint8Array.of(1, 2)), Buffer.from([0, 0, 0, 9, 7])]));
    expect(readAll(reader)).toEqual([Buffer.from([1, 2])]);
    expect(reader.pendingBytes).toBe(5);
    const r2 = new FrameReader(100);
    r2.push(Buffer.concat([plainFrame(Uint8Array.of(1)), Buffer.from('rest')]));
    expect(r2.next()).toEqual(Buffer.from([1]));
    expect(Buffer.concat(r2.drain()).toString()).toBe('rest');
  });

  it('assembles a 16 MiB frame from 4 KiB chunks in linear time', () => {
    const body = randomBytes(16 << 20);
    const stream = plainFrame(body);
    const reader = new FrameReader(16 << 20);
    const t0 = performance.now();
    let got: Buffer | undefined;
    for (let i = 0; i < stream.length; i += 4096) {
      reader.push(stream.subarray(i, i + 4096));
      got = reader.next() ?? got;
    }
    const ms = performance.now() - t0;
    expect(got!.equals(body)).toBe(true);
    // One copy of 16 MiB takes milliseconds; re-concatenating on every chunk would copy ~32 GB.
    expect(ms).toBeLessThan(1000);
  });
});

describe('FrameSealer / FrameOpener', () => {
  it('seals as specified: u32be(len) || AES-256-GCM(key, 0^32 || u64be(counter), aad = header) || tag', () => {
    const sealer = new FrameSealer(key);
    const frames = [0, 1, 2].map((i) => Buffer.concat(sealer.seal(Uint8Array.of(0x82, 0x04, 0x41, i))));
    frames.forEach((frame, counter) => {
      const nonce = Buffer.alloc(12);
      nonce.writeUInt32BE(counter, 8);
      const header = frameHeader(4 + 16);
      const c = createCipheriv('aes-256-gcm', key, nonce);
      c.setAAD(header);
      const ct = Buffer.concat([c.update(Uint8Array.of(0x82, 0x04, 0x41, counter)), c.final()]);
      expect(frame.equals(Buffer.concat([header, ct, c.getAuthTag()]))).toBe(true);
    });
    // Vector (docs/peer-protocol.md §3): key 00..1f, counter 0, plaintext 82044100.
    expect(toHex(frames[0]!)).toMatchInlineSnapshot(`"000000148cb8f4def4c5e251ae1b7b6c3963cae71505beb1"`);
  });

  it('opens in order, and refuses tampering, replay, reordering and runts', () => {
    const sealer = new FrameSealer(key);
    const opener = new FrameOpener(key);
    const f = (p: Uint8Array) => Buffer.concat(sealer.seal(p)).subarray(4);
    const a = f(Uint8Array.of(1));
    const b = f(Uint8Array.of(2));
    expect(opener.open(a)).toEqual(Buffer.from([1]));
    expect(opener.open(b)).toEqual(Buffer.from([2]));
    const fail = (body: Buffer, o = new FrameOpener(key)) => {
      try {
        o.open(body);
      } catch (e) {
        return (e as FrameError).code;
      }
      return 'ok';
    };
    expect(fail(a, opener)).toBe('FRAME_DECRYPT_FAILED'); // replay
    expect(fail(b)).toBe('FRAME_DECRYPT_FAILED'); // frame 1 at counter 0
    const t = Buffer.from(a);
    t[0]! ^= 1;
    expect(fail(t)).toBe('FRAME_DECRYPT_FAILED');
    expect(fail(Buffer.alloc(15))).toBe('FRAME_DECRYPT_FAILED');
    expect(fail(a, new FrameOpener(new Uint8Array(32)))).toBe('FRAME_DECRYPT_FAILED');
  });

  it('writes small frames as one buffer and large ones as three parts (one writev)', () => {
    const sealer = new FrameSealer(key);
    const opener = new FrameOpener(key);
    expect(sealer.seal(new Uint8Array(100))).toHaveLength(1);
    const big = randomBytes(1 << 20);
    const parts = sealer.seal(big);
    expect(parts).toHaveLength(3);
    opener.skip();
    expect(opener.open(Buffer.concat(parts).subarray(4)).equals(big)).toBe(true);
  });

  it('stops at maxFrames in both directions (a nonce is never reused)', () => {
    const sealer = new FrameSealer(key, 2);
    const opener = new FrameOpener(key, 2);
    for (let i = 0; i < 2; i++) opener.open(Buffer.concat(sealer.seal(Uint8Array.of(i))).subarray(4));
    expect(() => sealer.seal(Uint8Array.of(9))).toThrow(/2 frames/);
    expect(() => opener.skip()).toThrow(FrameError);
    expect(sealer.framesSealed).toBe(2);
  });
});
