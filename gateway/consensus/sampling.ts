/**
 * Sampled signature checks (docs/consensus.md §5). A validator checks each transaction a peer relays to it
 * with probability `fraction`, decided by a secret only it holds (relaySample), and a transaction of a block it
 * did not propose and never saw by its own block sample (signatureSample: a seed only this validator can
 * compute, the hash of its BLS signature over the block id). Either way a proposer cannot steer a forged
 * signature away from the samplers — it cannot predict any sample — and a forged signature that one sampler
 * checks makes the block invalid there and is evidence against the proposer (§6). A proposer checks every
 * signature it puts in a block.
 */
import { concatBytes } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { taggedHash } from '../../core/hash.js';

/** Domain tag of the sample seed (the message signed is the tag's bytes followed by the block id). */
export const SIGNATURE_SAMPLE_TAG = 'iosnet/signature-sample/v1';
const TAG_BYTES = new TextEncoder().encode(SIGNATURE_SAMPLE_TAG);

/**
 * Which transactions of a block (by index) this validator checks: all of them when `fraction` >= 1,
 * otherwise index i is checked iff the first 4 bytes of H(tag, seed || u32be(i)), big-endian, are below
 * fraction * 2^32, with seed = H(tag, BLS-Sign(sk, tag || blockId)).
 */
/** Fraction p as a threshold on a big-endian u32: p * 2^32 (fractions above 1 check everything). */
function threshold(fraction: number): number {
  return Math.floor(Math.min(1, fraction) * 2 ** 32);
}

function u32be(h: Uint8Array): number {
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

/**
 * Whether to check a relayed transaction on admission: the first 4 bytes of H(tag, secret || txId) below
 * fraction * 2^32. `secret` is this node's own (random per process), so no peer can predict which it checks.
 * Undefined at fraction 1 (everything is checked).
 */
export function relaySample(
  crypto: Crypto,
  fraction: number,
  secret: Uint8Array,
): ((txId: Uint8Array) => boolean) | undefined {
  if (fraction >= 1) return undefined;
  const t = threshold(fraction);
  return (id) => u32be(taggedHash(crypto, SIGNATURE_SAMPLE_TAG, secret, id)) < t;
}

export function signatureSample(
  crypto: Crypto,
  blsSecretKey: Uint8Array,
  blockId: Uint8Array,
  fraction: number,
): (index: number) => boolean {
  if (fraction >= 1) return () => true;
  const seed = taggedHash(
    crypto,
    SIGNATURE_SAMPLE_TAG,
    crypto.bls.sign(concatBytes(TAG_BYTES, blockId), blsSecretKey),
  );
  const t = threshold(fraction);
  const index = new Uint8Array(4);
  const view = new DataView(index.buffer);
  return (i) => {
    view.setUint32(0, i);
    return u32be(taggedHash(crypto, SIGNATURE_SAMPLE_TAG, seed, index)) < t;
  };
}
