/**
 * Binary Merkle tree over transaction ids (a block's tx root): the tree of RFC 9162 (Certificate
 * Transparency v2) §2.1, with iosnet's domain tags in place of the 0x00/0x01 prefixes:
 *   leaf = H("iosnet/merkle-leaf/v1", txId), node = H("iosnet/merkle-node/v1", left, right),
 *   MTH(D[0:n]) = node(MTH(D[0:k]), MTH(D[k:n])) with k the largest power of two < n.
 * An odd node is never duplicated: Bitcoin's duplication let two different tx lists share a root
 * (CVE-2012-2459).
 *
 * The root does not commit to the leaf count, exactly as in RFC 9162, where the count comes from the
 * signed tree head. A proof's (index, count) is therefore only authenticated if the verifier compares
 * `count` with a count it trusts (e.g. a block header's tx count): with a free count, the last leaf of a
 * 3-leaf tree also verifies as index 1 of a 2-leaf tree.
 *
 * Wire form (docs/protocol.md): MerkleProof = [1, 10, index uint, count uint, siblings bytes], where
 * siblings is the bottom-up inclusion path (RFC 9162 §2.1.3.1) as one concatenation of 32-byte hashes.
 */
import { abytes, auint, concatBytes, equalBytes } from './bytes.js';
import { CborReader, CborWriter } from './cbor.js';
import type { Crypto } from './crypto.js';
import { ArgumentError, DecodeError, VerifyError } from './errors.js';
import { DomainTag, taggedHash } from './hash.js';
import { assertMaxSize, ObjectType, readEnvelope, writeEnvelope } from './object.js';

export const HASH_SIZE = 32;
/** Root of a tree with no leaves (a block without transactions). Not the output of any hash. */
export const EMPTY_ROOT: Uint8Array = /* @__PURE__ */ new Uint8Array(HASH_SIZE);
/** A path of 64 siblings covers 2^64 leaves, more than any count a safe integer can express. */
export const MAX_MERKLE_SIBLINGS = 64;
/** Largest possible encoding: header, two 9-byte uints, 3-byte bytes head, 64 hashes. */
export const MAX_MERKLE_PROOF_SIZE = 3 + 9 + 9 + 3 + HASH_SIZE * MAX_MERKLE_SIBLINGS;

export interface MerkleProof {
  readonly index: number;
  readonly count: number;
  /** Sibling hashes from the leaf's level up to the root's children (RFC 9162 inclusion path). */
  readonly siblings: readonly Uint8Array[];
}

/** A built tree: every level kept so that proofs for many leaves cost O(log n) each. */
export interface MerkleTree {
  readonly root: Uint8Array;
  readonly count: number;
  proof(index: number): MerkleProof;
}

export function merkleLeafHash(crypto: Crypto, leaf: Uint8Array): Uint8Array {
  return taggedHash(crypto, DomainTag.merkleLeaf, leaf);
}

export function merkleNodeHash(crypto: Crypto, left: Uint8Array, right: Uint8Array): Uint8Array {
  return taggedHash(crypto, DomainTag.merkleNode, left, right);
}

function leafHashes(crypto: Crypto, leaves: readonly Uint8Array[]): Uint8Array[] {
  if (!Array.isArray(leaves)) throw new ArgumentError('leaves', 'expected an array of Uint8Array');
  return leaves.map((leaf, i) => merkleLeafHash(crypto, abytes(leaf, `leaves[${i}]`)));
}

/**
 * Pairs a level bottom-up; a last node without a partner is carried up unchanged. This equals RFC 9162's
 * recursive split: at level j every node covers an aligned block of 2^j leaves, the last block possibly
 * short, and MTH of a short block starting at a multiple of 2^(j+1) is the same node one level up.
 */
function nextLevel(crypto: Crypto, level: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = new Array((level.length + 1) >> 1);
  for (let i = 0; i + 1 < level.length; i += 2)
    out[i >> 1] = merkleNodeHash(crypto, level[i]!, level[i + 1]!);
  if (level.length & 1) out[out.length - 1] = level[level.length - 1]!;
  return out;
}

export function merkleRoot(crypto: Crypto, leaves: readonly Uint8Array[]): Uint8Array {
  let level = leafHashes(crypto, leaves);
  if (level.length === 0) return EMPTY_ROOT.slice();
  while (level.length > 1) level = nextLevel(crypto, level);
  return level[0]!;
}

export function buildMerkleTree(crypto: Crypto, leaves: readonly Uint8Array[]): MerkleTree {
  const levels = [leafHashes(crypto, leaves)];
  while (levels[levels.length - 1]!.length > 1) levels.push(nextLevel(crypto, levels[levels.length - 1]!));
  const count = leaves.length;
  const root = count === 0 ? EMPTY_ROOT.slice() : levels[levels.length - 1]![0]!;
  return {
    root,
    count,
    proof(index: number): MerkleProof {
      auint(index, 'index');
      if (index >= count) throw new ArgumentError('index', `${index} is not below the leaf count ${count}`);
      const siblings: Uint8Array[] = [];
      let pos = index;
      for (let j = 0; j + 1 < levels.length; j++) {
        const level = levels[j]!;
        const partner = pos ^ 1;
        // A last node without a partner is promoted, so this level adds nothing to the path (RFC 9162 PATH).
        if (partner < level.length) siblings.push(level[partner]!);
        pos >>= 1;
      }
      return { index, count, siblings };
    },
  };
}

export function merkleProof(crypto: Crypto, leaves: readonly Uint8Array[], index: number): MerkleProof {
  return buildMerkleTree(crypto, leaves).proof(index);
}

function proofInvalid(message: string, data: Record<string, unknown>): VerifyError {
  return new VerifyError('VERIFY_PROOF_INVALID', `merkle proof: ${message}`, data);
}

/** RFC 9162 §2.1.3.2, step by step; throws VerifyError unless `leaf` is at `proof.index` under `root`. */
export function verifyMerkleProof(
  crypto: Crypto,
  root: Uint8Array,
  leaf: Uint8Array,
  proof: MerkleProof,
): void {
  abytes(root, 'root', HASH_SIZE);
  abytes(leaf, 'leaf');
  if (typeof proof !== 'object' || proof === null) throw proofInvalid('not a proof', { reason: 'MALFORMED' });
  const { index, count, siblings } = proof;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 0 || index >= count) {
    throw proofInvalid(`index ${index} is not below count ${count}`, {
      reason: 'INDEX_OUT_OF_RANGE',
      index,
      count,
    });
  }
  if (!Array.isArray(siblings) || siblings.length > MAX_MERKLE_SIBLINGS) {
    throw proofInvalid('too many siblings', { reason: 'SIBLING_COUNT' });
  }
  // Numbers above 2^32 do not survive JS's 32-bit shift operators, so halve with Math.floor.
  let fn = index;
  let sn = count - 1;
  let r = merkleLeafHash(crypto, leaf);
  for (const p of siblings) {
    if (!(p instanceof Uint8Array) || p.length !== HASH_SIZE) {
      throw proofInvalid('sibling is not a 32-byte hash', { reason: 'SIBLING_LENGTH' });
    }
    if (sn === 0)
      throw proofInvalid('more siblings than the path has', { reason: 'SIBLING_COUNT', index, count });
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(crypto, p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = merkleNodeHash(crypto, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0)
    throw proofInvalid('fewer siblings than the path has', { reason: 'SIBLING_COUNT', index, count });
  if (!equalBytes(r, root)) {
    throw new VerifyError('VERIFY_ROOT_MISMATCH', 'merkle proof: computed root differs', { index, count });
  }
}

export function writeMerkleProof(w: CborWriter, proof: MerkleProof): CborWriter {
  if (proof.siblings.length > MAX_MERKLE_SIBLINGS) throw new ArgumentError('proof.siblings', 'more than 64');
  for (const [i, s] of proof.siblings.entries()) abytes(s, `proof.siblings[${i}]`, HASH_SIZE);
  writeEnvelope(w, ObjectType.merkleProof, 3);
  return w
    .uint(proof.index)
    .uint(proof.count)
    .bytes(concatBytes(...proof.siblings));
}

export function readMerkleProof(r: CborReader): MerkleProof {
  readEnvelope(r, ObjectType.merkleProof, 3);
  const index = r.uint('merkleProof.index');
  const count = r.uint('merkleProof.count');
  const packed = r.bytesField('merkleProof.siblings', { max: HASH_SIZE * MAX_MERKLE_SIBLINGS });
  if (packed.length % HASH_SIZE !== 0) {
    throw new DecodeError('DECODE_INVALID_LENGTH', 'merkleProof.siblings: not a multiple of 32 bytes', {
      field: 'merkleProof.siblings',
      got: packed.length,
    });
  }
  const siblings: Uint8Array[] = [];
  for (let off = 0; off < packed.length; off += HASH_SIZE)
    siblings.push(packed.subarray(off, off + HASH_SIZE));
  return { index, count, siblings };
}

export function encodeMerkleProof(proof: MerkleProof): Uint8Array {
  return writeMerkleProof(new CborWriter(32 + HASH_SIZE * proof.siblings.length), proof).finish();
}

export function decodeMerkleProof(bytes: Uint8Array): MerkleProof {
  assertMaxSize(bytes, MAX_MERKLE_PROOF_SIZE, 'merkleProof');
  const r = new CborReader(bytes);
  const proof = readMerkleProof(r);
  r.end('merkleProof');
  return proof;
}
