/** decodeImageView (the host's copy-free decode) accepts and refuses exactly what decodeImage does. */
import { describe, expect, it } from 'vitest';
import {
  decodeImage,
  decodeImageView,
  encodeImage,
  encodeManifest,
} from '../../../flash-scripts/image-format.js';

function image(payload: Uint8Array, declaredSize = payload.length): Uint8Array {
  const manifest = encodeManifest({
    boardId: 'emu-x64',
    version: '1.0.0',
    size: declaredSize,
    sha256: new Uint8Array(32).fill(1),
    signer: new Uint8Array(32).fill(2),
  });
  return encodeImage(manifest, new Uint8Array(64).fill(3), payload);
}

function outcome(f: () => unknown): unknown {
  try {
    const d = f() as ReturnType<typeof decodeImage>;
    return { ...d, payload: new Uint8Array(d.payload), manifestBytes: new Uint8Array(d.manifestBytes) };
  } catch (err) {
    return { error: (err as { code?: string }).code };
  }
}

describe('decodeImageView', () => {
  it('gives decodeImage’s result with the payload as a view into the image', () => {
    for (const n of [0, 1, 23, 24, 255, 256, 65535, 65536, 100_000]) {
      const bytes = image(new Uint8Array(n).map((_, i) => i * 7));
      const view = decodeImageView(bytes);
      expect(outcome(() => view)).toEqual(outcome(() => decodeImage(bytes)));
      expect(view.payload.buffer).toBe(bytes.buffer);
    }
  });

  it('refuses or accepts malformed images exactly as decodeImage does', () => {
    const good = image(new Uint8Array(300).fill(9));
    const cases: Uint8Array[] = [
      image(new Uint8Array(300), 299), // payload longer than declared
      image(new Uint8Array(300), 301), // shorter than declared
      new Uint8Array([...good, 0]), // trailing byte
      good.subarray(0, good.length - 1), // truncated
      good.subarray(0, 40),
      new Uint8Array(0),
      new Uint8Array([0x84, 0x02]),
    ];
    // A non-canonical payload head (a 2-byte length for 300 bytes written as 4 bytes) is refused too.
    const head = good.length - 300 - 3;
    const nonCanonical = new Uint8Array(good.length + 2);
    nonCanonical.set(good.subarray(0, head));
    nonCanonical.set([0x5a, 0, 0, 0x01, 0x2c], head);
    nonCanonical.set(good.subarray(head + 3), head + 5);
    cases.push(nonCanonical);
    for (const bytes of cases)
      expect(outcome(() => decodeImageView(bytes))).toEqual(outcome(() => decodeImage(bytes)));
    expect(outcome(() => decodeImageView(nonCanonical))).toHaveProperty('error');
  });
});
