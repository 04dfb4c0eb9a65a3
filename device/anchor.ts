/**
 * The trust anchor a device image carries (docs/device.md §Trust anchor): the one thing the device believes
 * without a proof, baked into the image at build time. Everything else is verified from it.
 *
 * Anchor, as canonical CBOR, is one of:
 *   genesis:    [1, 1, genesisHash (32 bytes), Committee]
 *                 the chain's genesis hash and its first committee (the one that signs state block 0).
 *   stateBlock: [1, 2, genesisHash (32 bytes), Committee, StateBlock, Committee | null]
 *                 a recent state block, the committee that signed it, and, when that state block is a
 *                 committee transition (nextCommittee != committee), the next committee it names.
 * Decoding is strict: core's readers reject non-canonical items, and the whole anchor is re-encoded and
 * compared; a state-block anchor's signature and committee hashes are verified when it is loaded, so a
 * corrupted image fails at boot, not at the first sync.
 */
import { equalBytes } from '../core/bytes.js';
import { CborReader, CborWriter } from '../core/cbor.js';
import { type Committee, prepareCommittee, readCommittee, writeCommittee } from '../core/committee.js';
import type { Crypto } from '../core/crypto.js';
import { HASH_BYTES } from '../core/identity.js';
import { readStateBlock, type StateBlock, writeStateBlock } from '../core/state-block.js';
import { verifyCommitteeTransition, verifyStateBlock } from '../core/verify.js';
import { DeviceError, deviceFail } from './errors.js';

export const ANCHOR_VERSION = 1;
export const AnchorKind = { genesis: 1, stateBlock: 2 } as const;
/** A 1,024-member committee is ~57 KB; two of them plus a state block stay below this. */
export const MAX_ANCHOR_BYTES = 128 * 1024;

export type Anchor =
  | {
      readonly kind: 'genesis';
      readonly genesisHash: Uint8Array;
      /** The first committee: it signs state block 0. */
      readonly committee: Committee;
    }
  | {
      readonly kind: 'stateBlock';
      readonly genesisHash: Uint8Array;
      /** The committee that signed `stateBlock`. */
      readonly committee: Committee;
      readonly stateBlock: StateBlock;
      /** Required iff `stateBlock` is a committee transition: the committee it names. */
      readonly nextCommittee: Committee | null;
    };

export function encodeAnchor(a: Anchor): Uint8Array {
  const w = new CborWriter(4096);
  if (a.kind === 'genesis') {
    w.array(4).uint(ANCHOR_VERSION).uint(AnchorKind.genesis).bytes(a.genesisHash);
    writeCommittee(w, a.committee);
  } else {
    w.array(6).uint(ANCHOR_VERSION).uint(AnchorKind.stateBlock).bytes(a.genesisHash);
    writeCommittee(w, a.committee);
    writeStateBlock(w, a.stateBlock);
    if (a.nextCommittee) writeCommittee(w, a.nextCommittee);
    else w.null();
  }
  return w.finish();
}

function readAnchor(bytes: Uint8Array): Anchor {
  if (bytes.length > MAX_ANCHOR_BYTES) throw new RangeError(`anchor is over ${MAX_ANCHOR_BYTES} bytes`);
  const r = new CborReader(bytes);
  const n = r.array('anchor', { min: 4, max: 6 });
  const version = r.uint('anchor.version');
  if (version !== ANCHOR_VERSION) throw new RangeError(`unknown anchor version ${version}`);
  const kind = r.uint('anchor.kind', 255);
  const genesisHash = r.bytesField('anchor.genesisHash', HASH_BYTES);
  const committee = readCommittee(r);
  let anchor: Anchor;
  if (kind === AnchorKind.genesis && n === 4) {
    anchor = { kind: 'genesis', genesisHash, committee };
  } else if (kind === AnchorKind.stateBlock && n === 6) {
    const stateBlock = readStateBlock(r);
    const nextCommittee = r.nullIf() ? null : readCommittee(r);
    anchor = { kind: 'stateBlock', genesisHash, committee, stateBlock, nextCommittee };
  } else {
    throw new RangeError(`unknown anchor kind ${kind} with ${n} fields`);
  }
  r.end('anchor');
  return anchor;
}

/** Decodes and checks an anchor (see the header); throws DEVICE_ANCHOR_INVALID. */
export function decodeAnchor(crypto: Crypto, bytes: Uint8Array): Anchor {
  let anchor: Anchor;
  try {
    anchor = readAnchor(bytes);
  } catch (err) {
    return deviceFail('DEVICE_ANCHOR_INVALID', 'trust anchor is not a canonical anchor', err);
  }
  if (!equalBytes(encodeAnchor(anchor), bytes)) {
    throw new DeviceError('DEVICE_ANCHOR_INVALID', 'trust anchor is not in canonical form');
  }
  checkAnchor(crypto, anchor);
  return anchor;
}

/** A state-block anchor must verify under its own committee(s): catches a damaged or mismatched image. */
export function checkAnchor(crypto: Crypto, anchor: Anchor): void {
  if (anchor.kind === 'genesis') return;
  const { stateBlock: sb, committee, nextCommittee } = anchor;
  try {
    const prepared = prepareCommittee(crypto, committee);
    const transition = !equalBytes(sb.committee, sb.nextCommittee);
    if (transition) {
      if (!nextCommittee)
        throw new RangeError('the anchor state block is a transition: nextCommittee required');
      verifyCommitteeTransition(crypto, prepared, sb, nextCommittee);
    } else {
      if (nextCommittee) throw new RangeError('nextCommittee given for a state block that is no transition');
      verifyStateBlock(crypto, sb, prepared);
    }
  } catch (err) {
    deviceFail('DEVICE_ANCHOR_INVALID', 'trust anchor does not verify', err);
  }
}
