import { afterAll, describe, expect, it } from 'vitest';
import { getBoard } from '../../../boards/index.js';
import { buildImage } from '../../../flash-scripts/image.js';
import {
  decodeImage,
  decodePayload,
  encodeImage,
  encodeImageHeader,
  ImageError,
  verifyImage,
  verifyManifest,
} from '../../../flash-scripts/image-format.js';
import { testCrypto as crypto } from '../../helpers/crypto.js';
import {
  otherReleaseKey,
  releaseKey,
  removeTinyEntries,
  testAnchor,
  tinyEntry,
} from '../../helpers/flash.js';

afterAll(removeTinyEntries);

const board = getBoard('emu-x64');
const trust = { releaseKey: releaseKey.publicKey, boardId: 'emu-x64' };

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as ImageError).code;
  }
  return undefined;
}

describe('device image', () => {
  const entry = tinyEntry();
  const build = (over: Partial<Parameters<typeof buildImage>[0]> = {}) =>
    buildImage({
      board,
      anchor: testAnchor(),
      releaseSecretKey: releaseKey.secretKey,
      version: '1.2.3',
      crypto,
      entry,
      ...over,
    });

  it('carries a signed manifest, the bundle, the board definition and the anchor', async () => {
    const image = await build();
    const decoded = verifyImage(crypto, image.bytes, trust);
    expect(decoded.manifest).toMatchObject({
      boardId: 'emu-x64',
      version: '1.2.3',
      size: decoded.payload.length,
    });
    const payload = decodePayload(decoded.payload);
    expect(JSON.parse(new TextDecoder().decode(payload.board))).toEqual(board);
    expect(payload.anchor).toEqual(testAnchor());
    expect(new TextDecoder().decode(payload.entry)).toContain('boot');
  });

  it('is its header (encodeImageHeader) followed by the payload, for short and long payloads', async () => {
    const image = await build();
    const d = decodeImage(image.bytes);
    const header = encodeImageHeader(d.manifestBytes, d.signature, d.payload.length);
    expect(image.bytes.length).toBe(header.length + d.payload.length);
    expect(image.bytes.subarray(0, header.length)).toEqual(header);
    for (const n of [0, 23, 24, 255, 256, 65_535, 65_536]) {
      const whole = encodeImage(d.manifestBytes, d.signature, new Uint8Array(n));
      expect(whole.subarray(0, whole.length - n)).toEqual(encodeImageHeader(d.manifestBytes, d.signature, n));
    }
  });

  it('is reproducible: the same inputs give the same bytes (real device entry)', async () => {
    const a = await buildImage({
      board,
      anchor: testAnchor(),
      releaseSecretKey: releaseKey.secretKey,
      version: '1',
      crypto,
    });
    const b = await buildImage({
      board,
      anchor: testAnchor(),
      releaseSecretKey: releaseKey.secretKey,
      version: '1',
      crypto,
    });
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(a.bytes.length).toBeLessThan(board.slotBytes);
  }, 60_000);

  it('refuses an image larger than the board slot with IMAGE_TOO_LARGE', async () => {
    const big = tinyEntry({ padBytes: board.slotBytes });
    await expect(build({ entry: big })).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });

  it('refuses a bad anchor at build time', async () => {
    await expect(build({ anchor: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({
      code: 'IMAGE_BUILD_FAILED',
    });
  });

  it('is refused when bit-flipped, for another board, or signed by another key', async () => {
    const image = await build();
    const d = decodeImage(image.bytes);
    expect(
      codeOf(() => verifyManifest(crypto, d.manifestBytes, d.signature, { ...trust, boardId: 'rpi4' })),
    ).toBe('IMAGE_WRONG_BOARD');
    expect(
      codeOf(() => verifyImage(crypto, image.bytes, { ...trust, releaseKey: otherReleaseKey.publicKey })),
    ).toBe('IMAGE_UNTRUSTED_SIGNER');
    const sig = d.signature.slice();
    sig[5]! ^= 1;
    expect(codeOf(() => verifyManifest(crypto, d.manifestBytes, sig, trust))).toBe('IMAGE_BAD_SIGNATURE');
    const flipped = image.bytes.slice();
    flipped[flipped.length - 100]! ^= 0x40;
    expect(codeOf(() => verifyImage(crypto, flipped, trust))).toBe('IMAGE_HASH_MISMATCH');
    expect(codeOf(() => verifyImage(crypto, image.bytes.subarray(0, 50), trust))).toBe('IMAGE_INVALID');
    const other = await build({ releaseSecretKey: otherReleaseKey.secretKey });
    expect(codeOf(() => verifyImage(crypto, other.bytes, trust))).toBe('IMAGE_UNTRUSTED_SIGNER');
    expect(() => verifyImage(crypto, image.bytes, trust)).not.toThrow(ImageError);
  });
});
