/**
 * Builds a signed device image for a board (docs/flashing.md §Image; format in image-format.ts): the device
 * entry bundled by flash-scripts/bundle.ts for the board's Node, the board definition and the trust anchor,
 * under a manifest signed by the release key.
 *
 * Reproducible: the same inputs give the same bytes. Nothing time- or path-dependent enters the image
 * (esbuild and terser are deterministic; Ed25519 signatures are deterministic, RFC 8032 §5.1.6), and
 * test/unit/flash-scripts/image.test.ts builds twice and compares.
 */
import { fileURLToPath } from 'node:url';
import type { BoardDefinition } from '../boards/index.js';
import type { Crypto } from '../core/crypto.js';
import { IosnetError } from '../core/errors.js';
import { decodeAnchor } from '../device/anchor.js';
import { bundleForDevice } from './bundle.js';
import {
  encodeImage,
  encodeManifest,
  encodePayload,
  ImageError,
  type ImageManifest,
  imageSigningMessage,
} from './image-format.js';

/** The device image's entry point: `node main.mjs run --config FILE` (device/main.ts). */
export const DEVICE_ENTRY = fileURLToPath(new URL('../device/main.ts', import.meta.url));
/** mqtt.js is CommonJS: its require() calls of node builtins need a real require inside an ESM bundle. */
const REQUIRE_BANNER = "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";

export interface BuildImageOptions {
  readonly board: BoardDefinition;
  readonly anchor: Uint8Array;
  readonly releaseSecretKey: Uint8Array;
  readonly version: string;
  readonly crypto: Crypto;
  /** Defaults to DEVICE_ENTRY; tests pass small entries. */
  readonly entry?: string;
}

export interface BuiltImage {
  readonly bytes: Uint8Array;
  readonly manifest: ImageManifest;
  readonly entryBytes: number;
  readonly entryGzipBytes: number;
}

/** Board definition as the image carries it: JSON with the definition's own (fixed) key order. */
export function boardConfigBytes(board: BoardDefinition): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(board));
}

export async function buildImage(opts: BuildImageOptions): Promise<BuiltImage> {
  const { board, crypto } = opts;
  try {
    decodeAnchor(crypto, opts.anchor);
  } catch (err) {
    const what = err instanceof IosnetError ? `${err.code}: ${err.message}` : String(err);
    throw new ImageError('IMAGE_BUILD_FAILED', `the trust anchor is not valid (${what})`);
  }
  let bundle: Awaited<ReturnType<typeof bundleForDevice>>;
  try {
    bundle = await bundleForDevice({
      entry: opts.entry ?? DEVICE_ENTRY,
      target: `node${board.nodeMajor}`,
      banner: REQUIRE_BANNER,
    });
  } catch (err) {
    const first =
      (err as Error).message.split('\n').find((l) => l.includes('ERROR')) ?? (err as Error).message;
    throw new ImageError('IMAGE_BUILD_FAILED', `bundling the device entry failed: ${first.trim()}`);
  }
  const payload = encodePayload({ entry: bundle.code, board: boardConfigBytes(board), anchor: opts.anchor });
  const manifest: ImageManifest = {
    boardId: board.id,
    version: opts.version,
    size: payload.length,
    sha256: crypto.sha256(payload),
    signer: crypto.ed25519.getPublicKey(opts.releaseSecretKey),
  };
  const manifestBytes = encodeManifest(manifest);
  const signature = crypto.ed25519.sign(imageSigningMessage(crypto, manifestBytes), opts.releaseSecretKey);
  const bytes = encodeImage(manifestBytes, signature, payload);
  if (bytes.length > board.slotBytes) {
    throw new ImageError(
      'IMAGE_TOO_LARGE',
      `image is ${bytes.length} bytes, board ${board.id} has ${board.slotBytes}-byte slots`,
      { size: bytes.length, slotBytes: board.slotBytes, board: board.id },
    );
  }
  return { bytes, manifest, entryBytes: bundle.code.length, entryGzipBytes: bundle.gzipBytes };
}
