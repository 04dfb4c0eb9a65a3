/**
 * Sparse Merkle tree over 256-bit keys: the hashing rules and the proofs, i.e. what a light client needs
 * to check inclusion AND absence of an account against a state root, plus the byte formats of the
 * gateway's node store (node keys and node values). The versioned tree itself lives in smt-store.ts, so a
 * device bundle never carries it.
 *
 * The tree is the "compact" binary SMT of Diem/Aptos's Jellyfish Merkle Tree:
 *   - a key's path is its 256 bits, most significant first; bit 0 chooses the root's child (0 = left);
 *   - empty subtree = ZERO_HASH; leaf = H("iosnet/smt-leaf/v1", key, valueHash);
 *     internal = H("iosnet/smt-node/v1", left, right);
 *   - a subtree holding exactly one leaf IS that leaf, placed at the shortest prefix that is unique, so n
 *     random keys give depth ~log2(n). No internal node has two empty children, or an empty child and a
 *     leaf child (it collapses into the leaf). The empty tree's root is ZERO_HASH.
 *
 * A proof of a key lists the siblings from the root down to where the key's path ends: (a) at the leaf of
 * that key (inclusion), (b) at an empty subtree (absence), or (c) at a leaf of another key sharing the
 * path so far (absence; the proof carries that leaf). Given a root of a well-formed tree, exactly one proof
 * verifies for a (key, value) claim, and exactly one encoding of it decodes, so a proof is not malleable.
 *
 * Wire form (docs/protocol.md): SmtProof = [1, 9, depth uint, bitmap bytes, siblings bytes,
 * leaf null | [key bytes32, valueHash bytes32]]. bitmap has ceil(depth/8) bytes, bit i (MSB first) set iff
 * the sibling at depth i is non-empty, unused bits zero; siblings = the non-empty siblings top-down, 32
 * bytes each. depth is at most 256, not 255: two keys that differ only in their last bit put their leaves
 * at depth 256, and a tree must be able to prove every state it can hold.
 */
import { abytes, equalBytes } from './bytes.js';
import { CborReader, CborWriter } from './cbor.js';
import type { Crypto } from './crypto.js';
import { DecodeError, type DecodeErrorCode, VerifyError } from './errors.js';
import { DomainTag, taggedHash, tagPrefix } from './hash.js';
import { assertMaxSize, ObjectType, readEnvelope, writeEnvelope } from './object.js';

export const SMT_KEY_SIZE = 32;
export const SMT_MAX_DEPTH = 256;
/** Hash of an empty subtree and root of the empty tree. Not the output of any hash. */
export const ZERO_HASH: Uint8Array = /* @__PURE__ */ new Uint8Array(32);
/** Envelope 3 + depth 3 + bitmap 2+32 + siblings 3+8192 + leaf 1+2*34. */
export const MAX_SMT_PROOF_SIZE = 3 + 3 + 34 + 3 + 32 * SMT_MAX_DEPTH + 69;

export interface SmtLeaf {
  readonly key: Uint8Array;
  readonly valueHash: Uint8Array;
}

/** Mirrors the wire form, so decoding copies nothing and encoding is one pass. */
export interface SmtProof {
  readonly depth: number;
  readonly bitmap: Uint8Array;
  /** Non-empty siblings, top-down, 32 bytes each, concatenated. */
  readonly siblings: Uint8Array;
  /** Terminal leaf for inclusion (same key) or absence at another key's leaf; null at an empty subtree. */
  readonly leaf: SmtLeaf | null;
}

/** Bit i of a 256-bit path (or of a bitmap), most significant bit of byte 0 first. */
export function smtPathBit(path: Uint8Array, i: number): number {
  return (path[i >> 3]! >> (7 - (i & 7))) & 1;
}

export function smtLeafHash(crypto: Crypto, key: Uint8Array, valueHash: Uint8Array): Uint8Array {
  return taggedHash(crypto, DomainTag.smtLeaf, key, valueHash);
}

export function smtNodeHash(crypto: Crypto, left: Uint8Array, right: Uint8Array): Uint8Array {
  return taggedHash(crypto, DomainTag.smtNode, left, right);
}

/** Whether a and b agree on their first `bits` path bits. */
export function smtSharesPrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[whole]! ^ b[whole]!) & mask) === 0;
}

/** Builds the compressed proof from the full top-down sibling list (ZERO_HASH marks an empty sibling). */
export function packSmtProof(siblings: readonly Uint8Array[], leaf: SmtLeaf | null): SmtProof {
  const depth = siblings.length;
  const bitmap = new Uint8Array((depth + 7) >> 3);
  let n = 0;
  for (let i = 0; i < depth; i++) {
    if (!equalBytes(siblings[i]!, ZERO_HASH)) {
      bitmap[i >> 3]! |= 0x80 >> (i & 7);
      n++;
    }
  }
  const packed = new Uint8Array(32 * n);
  let off = 0;
  for (const s of siblings) {
    if (equalBytes(s, ZERO_HASH)) continue;
    packed.set(s, off);
    off += 32;
  }
  return { depth, bitmap, siblings: packed, leaf };
}

/** The full top-down sibling list of a proof, ZERO_HASH for empty ones (for tools and tests). */
export function unpackSmtSiblings(proof: SmtProof): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  for (let i = 0; i < proof.depth; i++) {
    if (smtPathBit(proof.bitmap, i)) {
      out.push(proof.siblings.subarray(off, off + 32));
      off += 32;
    } else {
      out.push(ZERO_HASH);
    }
  }
  return out;
}

/** Field and reason of the first rule a proof's layout breaks, or undefined; shared by decode and verify. */
interface ShapeProblem {
  readonly field: string;
  readonly reason: string;
  readonly code: DecodeErrorCode;
}

function shapeProblem(proof: SmtProof): ShapeProblem | undefined {
  const { depth, bitmap, siblings, leaf } = proof;
  if (!Number.isSafeInteger(depth) || depth < 0 || depth > SMT_MAX_DEPTH) {
    return {
      field: 'depth',
      reason: `depth ${depth} is outside 0..${SMT_MAX_DEPTH}`,
      code: 'DECODE_INT_RANGE',
    };
  }
  if (!(bitmap instanceof Uint8Array) || bitmap.length !== (depth + 7) >> 3) {
    return { field: 'bitmap', reason: `must have ${(depth + 7) >> 3} bytes`, code: 'DECODE_INVALID_LENGTH' };
  }
  if (depth & 7 && bitmap[bitmap.length - 1]! & (0xff >> (depth & 7))) {
    return { field: 'bitmap', reason: 'bits beyond depth must be zero', code: 'DECODE_NON_CANONICAL' };
  }
  // Bits beyond depth are zero (checked above), so the set bits of whole bytes are the non-empty siblings.
  // No views or per-sibling allocations here: this runs twice per decode + verify (profiled).
  let set = 0;
  for (let i = 0; i < bitmap.length; i++) {
    let b = bitmap[i]!;
    b -= (b >> 1) & 0x55;
    b = (b & 0x33) + ((b >> 2) & 0x33);
    set += (b + (b >> 4)) & 0x0f;
  }
  if (!(siblings instanceof Uint8Array) || siblings.length !== 32 * set) {
    return { field: 'siblings', reason: `expected ${32 * set} bytes`, code: 'DECODE_INVALID_LENGTH' };
  }
  for (let off = 0; off < siblings.length; off += 32) {
    let any = 0;
    for (let j = off; j < off + 32; j++) any |= siblings[j]!;
    // An empty sibling is a clear bitmap bit; a second spelling of it would make proofs malleable.
    if (any === 0) {
      return { field: 'siblings', reason: 'empty sibling sent as bytes', code: 'DECODE_NON_CANONICAL' };
    }
  }
  if (leaf !== null) {
    if (typeof leaf !== 'object' || !(leaf.key instanceof Uint8Array) || leaf.key.length !== SMT_KEY_SIZE) {
      return { field: 'leaf.key', reason: 'expected 32 bytes', code: 'DECODE_INVALID_LENGTH' };
    }
    if (!(leaf.valueHash instanceof Uint8Array) || leaf.valueHash.length !== 32) {
      return { field: 'leaf.valueHash', reason: 'expected 32 bytes', code: 'DECODE_INVALID_LENGTH' };
    }
  }
  return undefined;
}

export function writeSmtProof(w: CborWriter, proof: SmtProof): CborWriter {
  const problem = shapeProblem(proof);
  if (problem) throw new RangeError(`smtProof.${problem.field}: ${problem.reason}`);
  writeEnvelope(w, ObjectType.smtProof, 4);
  w.uint(proof.depth).bytes(proof.bitmap).bytes(proof.siblings);
  if (proof.leaf === null) return w.null();
  return w.array(2).bytes(proof.leaf.key).bytes(proof.leaf.valueHash);
}

export function readSmtProof(r: CborReader): SmtProof {
  readEnvelope(r, ObjectType.smtProof, 4);
  const depth = r.uint('smtProof.depth', SMT_MAX_DEPTH);
  const bitmap = r.bytesField('smtProof.bitmap', (depth + 7) >> 3);
  const siblings = r.bytesField('smtProof.siblings', { max: 32 * SMT_MAX_DEPTH });
  let leaf: SmtLeaf | null = null;
  if (!r.nullIf()) {
    r.array('smtProof.leaf', 2);
    const key = r.bytesField('smtProof.leaf.key', SMT_KEY_SIZE);
    leaf = { key, valueHash: r.bytesField('smtProof.leaf.valueHash', 32) };
  }
  const proof = { depth, bitmap, siblings, leaf };
  const problem = shapeProblem(proof);
  if (problem) {
    const field = `smtProof.${problem.field}`;
    throw new DecodeError(problem.code, `${field}: ${problem.reason}`, { field });
  }
  return proof;
}

export function encodeSmtProof(proof: SmtProof): Uint8Array {
  return writeSmtProof(new CborWriter(80 + proof.siblings.length), proof).finish();
}

export function decodeSmtProof(bytes: Uint8Array): SmtProof {
  assertMaxSize(bytes, MAX_SMT_PROOF_SIZE, 'smtProof');
  const r = new CborReader(bytes);
  const proof = readSmtProof(r);
  r.end('smtProof');
  return proof;
}

function invalid(reason: string, message: string): VerifyError {
  return new VerifyError('VERIFY_PROOF_INVALID', `smt proof: ${message}`, { reason });
}

/**
 * Checks that `key` maps to `valueHash` under `root`, or, with valueHash null, that `key` is absent.
 * Throws VerifyError: code VERIFY_ROOT_MISMATCH when the path does not hash to root, otherwise
 * VERIFY_PROOF_INVALID with data.reason one of MALFORMED, KEY_ABSENT, KEY_PRESENT, VALUE_MISMATCH,
 * LEAF_OFF_PATH, NON_CANONICAL.
 */
export function verifySmtProof(
  crypto: Crypto,
  root: Uint8Array,
  key: Uint8Array,
  valueHash: Uint8Array | null,
  proof: SmtProof,
): void {
  abytes(root, 'root', 32);
  abytes(key, 'key', SMT_KEY_SIZE);
  if (valueHash !== null) abytes(valueHash, 'valueHash', 32);
  if (typeof proof !== 'object' || proof === null) throw invalid('MALFORMED', 'not a proof');
  const problem = shapeProblem(proof);
  if (problem) throw invalid('MALFORMED', `${problem.field}: ${problem.reason}`);
  const { depth, bitmap, siblings, leaf } = proof;

  let h: Uint8Array;
  if (leaf === null) {
    if (valueHash !== null) throw invalid('KEY_ABSENT', 'inclusion claimed, proof ends at an empty subtree');
    h = ZERO_HASH;
  } else {
    if (!smtSharesPrefix(leaf.key, key, depth)) {
      throw invalid('LEAF_OFF_PATH', `terminal leaf does not share the key's first ${depth} bits`);
    }
    const same = equalBytes(leaf.key, key);
    if (same && valueHash === null) throw invalid('KEY_PRESENT', 'absence claimed, proof shows the key');
    if (!same && valueHash !== null)
      throw invalid('KEY_ABSENT', 'inclusion claimed, proof shows another key');
    if (same && !equalBytes(leaf.valueHash, valueHash!))
      throw invalid('VALUE_MISMATCH', 'key has another value');
    h = smtLeafHash(crypto, leaf.key, leaf.valueHash);
  }
  // The parent of an empty subtree has a non-empty internal sibling, and a leaf beside an empty subtree
  // would have collapsed upwards: either way the deepest sibling is non-empty in a well-formed tree.
  if (depth > 0 && !smtPathBit(bitmap, depth - 1)) {
    throw invalid('NON_CANONICAL', 'deepest sibling is empty; no such node exists');
  }

  // Each level hashes smtNodeHash's exact input, prefix || left || right, rewritten in place in one buffer:
  // one single-part hash call per level, with no sibling views, rest arguments or concatenation.
  const prefix = tagPrefix(DomainTag.smtNode);
  const p = prefix.length;
  const node = new Uint8Array(p + 64);
  node.set(prefix);
  let off = siblings.length;
  for (let i = depth - 1; i >= 0; i--) {
    const right = smtPathBit(key, i);
    const at = right ? p + 32 : p;
    const s = right ? p : p + 32;
    const nonEmpty = smtPathBit(bitmap, i);
    if (nonEmpty) off -= 32;
    for (let j = 0; j < 32; j++) {
      node[at + j] = h[j]!;
      node[s + j] = nonEmpty ? siblings[off + j]! : 0;
    }
    h = crypto.sha256(node);
  }
  if (!equalBytes(h, root)) throw new VerifyError('VERIFY_ROOT_MISMATCH', 'smt proof: computed root differs');
}

// ---- Store formats: node keys and nodes of the versioned tree (smt-store.ts) ----

/** A child reference inside an internal node: enough to fetch the child at (version, child path). */
export interface SmtChild {
  readonly hash: Uint8Array;
  readonly version: number;
  readonly leaf: boolean;
}

export type SmtNode =
  | { readonly kind: 'internal'; readonly left: SmtChild | null; readonly right: SmtChild | null }
  | { readonly kind: 'leaf'; readonly key: Uint8Array; readonly valueHash: Uint8Array }
  /** Only as the root of an empty tree, so that root(v) of an empty tree has something to find. */
  | { readonly kind: 'empty' };

export interface NodeKey {
  readonly version: number;
  readonly depth: number;
  /** 32 bytes; bits at and after `depth` are zero. */
  readonly path: Uint8Array;
}

/**
 * u64 big-endian version || u16 big-endian depth || ceil(depth/8) prefix bytes, unused bits zero.
 * Version first keeps one version's nodes adjacent in an ordered store such as LMDB.
 */
export function encodeNodeKey(
  version: number,
  path: Uint8Array,
  depth: number,
  out: Uint8Array = new Uint8Array(10 + ((depth + 7) >> 3)),
): Uint8Array {
  const n = (depth + 7) >> 3;
  // Byte by byte: a DataView per key made key encoding a visible share of a 1M-key build (profiled).
  let hi = Math.floor(version / 0x100000000);
  let lo = version >>> 0;
  for (let i = 7; i >= 4; i--, lo >>>= 8) out[i] = lo & 0xff;
  for (let i = 3; i >= 0; i--, hi >>>= 8) out[i] = hi & 0xff;
  out[8] = depth >> 8;
  out[9] = depth & 0xff;
  for (let i = 0; i < n; i++) out[10 + i] = path[i]!;
  if (depth & 7) out[9 + n]! &= (0xff << (8 - (depth & 7))) & 0xff;
  return out;
}

export function decodeNodeKey(bytes: Uint8Array): NodeKey {
  const bad = (reason: string, code: DecodeErrorCode = 'DECODE_INVALID_LENGTH') =>
    new DecodeError(code, `smt node key: ${reason}`, { field: 'nodeKey' });
  if (!(bytes instanceof Uint8Array) || bytes.length < 10) throw bad('shorter than 10 bytes');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(0) * 0x100000000 + view.getUint32(4);
  if (!Number.isSafeInteger(version)) throw bad('version above 2^53', 'DECODE_INT_RANGE');
  const depth = view.getUint16(8);
  if (depth > SMT_MAX_DEPTH) throw bad(`depth ${depth} above ${SMT_MAX_DEPTH}`, 'DECODE_INT_RANGE');
  const n = (depth + 7) >> 3;
  if (bytes.length !== 10 + n) throw bad(`expected ${10 + n} bytes`);
  if (depth & 7 && bytes[9 + n]! & (0xff >> (depth & 7)))
    throw bad('unused bits set', 'DECODE_NON_CANONICAL');
  const path = new Uint8Array(32);
  path.set(bytes.subarray(10));
  return { version, depth, path };
}

const NODE_EMPTY = 0;
const NODE_INTERNAL = 1;
const NODE_LEAF = 2;

/** Store value of a node: [0] empty | [1, child | null, child | null] | [2, key, valueHash],
 * child = [hash, version, leaf]. Not a protocol object, so it carries no [version, type] envelope. */
export function encodeSmtNode(node: SmtNode): Uint8Array {
  const w = new CborWriter(128);
  if (node.kind === 'empty') return w.array(1).uint(NODE_EMPTY).finish();
  if (node.kind === 'leaf') return w.array(3).uint(NODE_LEAF).bytes(node.key).bytes(node.valueHash).finish();
  w.array(3).uint(NODE_INTERNAL);
  for (const child of [node.left, node.right]) {
    if (child === null) w.null();
    else w.array(3).bytes(child.hash).uint(child.version).bool(child.leaf);
  }
  return w.finish();
}

function readChild(r: CborReader, field: string): SmtChild | null {
  if (r.nullIf()) return null;
  r.array(field, 3);
  const hash = r.bytesField(`${field}.hash`, 32);
  if (equalBytes(hash, ZERO_HASH)) {
    throw new DecodeError('DECODE_INVALID_VALUE', `${field}: empty child stored as a hash`, { field });
  }
  return { hash, version: r.uint(`${field}.version`), leaf: r.bool(`${field}.leaf`) };
}

export function decodeSmtNode(bytes: Uint8Array): SmtNode {
  const r = new CborReader(bytes);
  const n = r.array('smtNode', { min: 1, max: 3 });
  const kind = r.uint('smtNode.kind');
  let node: SmtNode;
  if (kind === NODE_EMPTY && n === 1) {
    node = { kind: 'empty' };
  } else if (kind === NODE_LEAF && n === 3) {
    const key = r.bytesField('smtNode.key', SMT_KEY_SIZE);
    node = { kind: 'leaf', key, valueHash: r.bytesField('smtNode.valueHash', 32) };
  } else if (kind === NODE_INTERNAL && n === 3) {
    const left = readChild(r, 'smtNode.left');
    const right = readChild(r, 'smtNode.right');
    // The compact rule: such a node would have collapsed, so its presence means a damaged store.
    if ((left === null || left.leaf) && (right === null || right.leaf) && (left === null || right === null)) {
      throw new DecodeError('DECODE_INVALID_VALUE', 'smtNode: internal node breaks the compact rule', {
        field: 'smtNode',
      });
    }
    node = { kind: 'internal', left, right };
  } else {
    throw new DecodeError('DECODE_INVALID_VALUE', `smtNode: unknown kind ${kind} with ${n} items`, {
      field: 'smtNode.kind',
    });
  }
  r.end('smtNode');
  return node;
}
