/**
 * The device image file (docs/flashing.md §Image): what `iosnet image build` writes, what `iosnet flash`
 * sends and what a board's bootloader verifies before boot. Canonical CBOR (core/cbor.ts), strict decode:
 *
 *   image    = [1, manifest, signature (64 bytes), payload (bytes)]
 *   manifest = [1, boardId, version, size, sha256, signer]
 *                size   = payload length in bytes; sha256 = sha256(payload) (plain, so `sha256sum` on an
 *                         extracted payload agrees); signer = the release key's Ed25519 public key
 *   payload  = [1, entry (bytes: the bundled device code, ESM), board (bytes: board definition JSON),
 *               anchor (bytes: the trust anchor, device/anchor.ts)]
 *   signature = Ed25519(releaseKey, H("iosnet/device-image/v1", manifest bytes))
 *
 * The manifest is the only signed part; the payload is bound to it by size and sha256, so a board can check
 * the signature (and refuse a wrong board or a foreign signer) from the first few hundred bytes, before
 * any data is flashed.
 */
import { equalBytes } from '../core/bytes.js';
import { CborReader, CborWriter } from '../core/cbor.js';
import type { Crypto } from '../core/crypto.js';
import { IosnetError } from '../core/errors.js';
import { DomainTag, taggedHash } from '../core/hash.js';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, HASH_BYTES } from '../core/identity.js';

export const IMAGE_FORMAT_VERSION = 1;
/** Larger than any board's slot; bounds allocation when decoding untrusted bytes. */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;
const MAX_VERSION_BYTES = 64;
const MAX_BOARD_ID_BYTES = 32;

export type ImageErrorCode =
  | 'IMAGE_INVALID'
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_BAD_SIGNATURE'
  | 'IMAGE_UNTRUSTED_SIGNER'
  | 'IMAGE_WRONG_BOARD'
  | 'IMAGE_HASH_MISMATCH'
  | 'IMAGE_BUILD_FAILED';

export class ImageError extends IosnetError<ImageErrorCode> {}

export interface ImageManifest {
  readonly boardId: string;
  readonly version: string;
  readonly size: number;
  readonly sha256: Uint8Array;
  readonly signer: Uint8Array;
}

export interface ImagePayload {
  readonly entry: Uint8Array;
  readonly board: Uint8Array;
  readonly anchor: Uint8Array;
}

export interface DecodedImage {
  readonly manifest: ImageManifest;
  readonly manifestBytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly payload: Uint8Array;
}

export function encodeManifest(m: ImageManifest): Uint8Array {
  return new CborWriter(160)
    .array(6)
    .uint(IMAGE_FORMAT_VERSION)
    .text(m.boardId)
    .text(m.version)
    .uint(m.size)
    .bytes(m.sha256)
    .bytes(m.signer)
    .finish();
}

function readVersion(r: CborReader, field: string): void {
  const v = r.uint(`${field}.version`);
  if (v !== IMAGE_FORMAT_VERSION) {
    throw new ImageError('IMAGE_INVALID', `${field}: unknown format version ${v}`, { field });
  }
}

function readManifest(r: CborReader): ImageManifest {
  r.array('manifest', 6);
  readVersion(r, 'manifest');
  return {
    boardId: r.text('manifest.boardId', MAX_BOARD_ID_BYTES),
    version: r.text('manifest.version', MAX_VERSION_BYTES),
    size: r.uint('manifest.size', MAX_IMAGE_BYTES),
    sha256: r.bytesField('manifest.sha256', HASH_BYTES),
    signer: r.bytesField('manifest.signer', ED25519_PUBLIC_KEY_BYTES),
  };
}

export function decodeManifest(bytes: Uint8Array): ImageManifest {
  return wrapDecode(() => {
    const r = new CborReader(bytes);
    const m = readManifest(r);
    r.end('manifest');
    return m;
  });
}

export function encodePayload(p: ImagePayload): Uint8Array {
  return new CborWriter(p.entry.length + p.board.length + p.anchor.length + 32)
    .array(4)
    .uint(IMAGE_FORMAT_VERSION)
    .bytes(p.entry)
    .bytes(p.board)
    .bytes(p.anchor)
    .finish();
}

export function decodePayload(bytes: Uint8Array): ImagePayload {
  return wrapDecode(() => {
    const r = new CborReader(bytes);
    r.array('payload', 4);
    readVersion(r, 'payload');
    const p = {
      entry: r.bytesField('payload.entry', { max: MAX_IMAGE_BYTES }),
      board: r.bytesField('payload.board', { max: 64 * 1024 }),
      anchor: r.bytesField('payload.anchor', { max: 1024 * 1024 }),
    };
    r.end('payload');
    return p;
  });
}

export function imageSigningMessage(crypto: Crypto, manifestBytes: Uint8Array): Uint8Array {
  return taggedHash(crypto, DomainTag.deviceImage, manifestBytes);
}

export function encodeImage(
  manifestBytes: Uint8Array,
  signature: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  return new CborWriter(payload.length + manifestBytes.length + 96)
    .array(4)
    .uint(IMAGE_FORMAT_VERSION)
    .raw(manifestBytes)
    .bytes(signature)
    .bytes(payload)
    .finish();
}

/**
 * The bytes of an image before its payload's content: encodeImage(manifest, signature, payload) is exactly
 * encodeImageHeader(manifest, signature, payload.length) || payload. A board that has checked the manifest
 * and signature (BEGIN) checks a flashed image with a byte comparison of this header plus the payload's hash,
 * which it computes while the bytes arrive, instead of decoding and re-hashing the whole slot.
 */
export function encodeImageHeader(
  manifestBytes: Uint8Array,
  signature: Uint8Array,
  payloadSize: number,
): Uint8Array {
  // The byte-string head: a canonical uint head with the major type switched from 0 to 2 (bytes).
  const head = new CborWriter(16).uint(payloadSize).finish();
  head[0]! |= 0x40;
  return new CborWriter(manifestBytes.length + 96)
    .array(4)
    .uint(IMAGE_FORMAT_VERSION)
    .raw(manifestBytes)
    .bytes(signature)
    .raw(head)
    .finish();
}

/** Strict structural decode (no signature check: see verifyImage). */
export function decodeImage(bytes: Uint8Array): DecodedImage {
  if (bytes.length > MAX_IMAGE_BYTES) {
    throw new ImageError('IMAGE_TOO_LARGE', `image of ${bytes.length} bytes exceeds ${MAX_IMAGE_BYTES}`, {
      size: bytes.length,
    });
  }
  return wrapDecode(() => {
    const r = new CborReader(bytes);
    const { manifest, manifestBytes, signature } = readImageHead(r);
    const payload = r.bytesField('image.payload', { max: MAX_IMAGE_BYTES });
    r.end('image');
    return { manifest, manifestBytes, signature, payload };
  });
}

/** An image's array head, version, manifest (with its exact bytes) and signature: all but the payload. */
function readImageHead(r: CborReader): {
  manifest: ImageManifest;
  manifestBytes: Uint8Array;
  signature: Uint8Array;
} {
  r.array('image', 4);
  readVersion(r, 'image');
  const start = r.pos;
  const manifest = readManifest(r);
  const manifestBytes = r.bytes.subarray(start, r.pos);
  const signature = r.bytesField('image.signature', ED25519_SIGNATURE_BYTES);
  return { manifest, manifestBytes, signature };
}

/**
 * decodeImage without copying the payload: `payload` is a view into `bytes`. The copy cost ~3 ms for a
 * 393 KB image on the shared machine (a zeroed 393 KB allocation alone ~1.9 ms, measured), on the
 * critical path of every `iosnet flash`. Same acceptance: the image's head is decoded strictly and the rest
 * must be exactly the payload's canonical byte string of manifest.size bytes, checked by comparing the
 * head with encodeImageHeader (what the board checks, docs/flashing.md §7). Anything else goes through
 * decodeImage, for the same result or the same error.
 */
export function decodeImageView(bytes: Uint8Array): DecodedImage {
  if (bytes.length <= MAX_IMAGE_BYTES) {
    try {
      const { manifest, manifestBytes, signature } = readImageHead(new CborReader(bytes));
      const header = encodeImageHeader(manifestBytes, signature, manifest.size);
      if (
        header.length + manifest.size === bytes.length &&
        equalBytes(bytes.subarray(0, header.length), header)
      ) {
        return { manifest, manifestBytes, signature, payload: bytes.subarray(header.length) };
      }
    } catch {
      // decodeImage below reports it with its own error.
    }
  }
  return decodeImage(bytes);
}

export interface ImageTrust {
  /** The release public key pinned on the board (or given to `iosnet flash`). */
  readonly releaseKey: Uint8Array;
  readonly boardId: string;
}

/**
 * The bootloader's header check: signer is the pinned release key, the signature holds, the image is for
 * this board. Needs only the manifest and signature, so it runs before any data is flashed.
 */
export function verifyManifest(
  crypto: Crypto,
  manifestBytes: Uint8Array,
  signature: Uint8Array,
  trust: ImageTrust,
): ImageManifest {
  const manifest = decodeManifest(manifestBytes);
  if (!equalBytes(manifest.signer, trust.releaseKey)) {
    throw new ImageError(
      'IMAGE_UNTRUSTED_SIGNER',
      'image is signed by a key other than the pinned release key',
      {
        signer: manifest.signer,
      },
    );
  }
  if (!crypto.ed25519.verify(signature, imageSigningMessage(crypto, manifestBytes), trust.releaseKey)) {
    throw new ImageError('IMAGE_BAD_SIGNATURE', 'image manifest signature does not verify');
  }
  if (manifest.boardId !== trust.boardId) {
    throw new ImageError(
      'IMAGE_WRONG_BOARD',
      `image is for board '${manifest.boardId}', not '${trust.boardId}'`,
      {
        expected: trust.boardId,
        got: manifest.boardId,
      },
    );
  }
  return manifest;
}

/** Full check of a whole image: header (verifyManifest) plus the payload's size and sha256. */
export function verifyImage(crypto: Crypto, bytes: Uint8Array, trust: ImageTrust): DecodedImage {
  const image = decodeImage(bytes);
  verifyManifest(crypto, image.manifestBytes, image.signature, trust);
  if (
    image.payload.length !== image.manifest.size ||
    !equalBytes(crypto.sha256(image.payload), image.manifest.sha256)
  ) {
    throw new ImageError('IMAGE_HASH_MISMATCH', 'image payload does not match the manifest (size or sha256)');
  }
  return image;
}

function wrapDecode<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof ImageError) throw err;
    if (err instanceof IosnetError) {
      throw new ImageError('IMAGE_INVALID', `not a device image: ${err.message}`, {
        cause: err.code,
        ...err.data,
      });
    }
    throw err;
  }
}
