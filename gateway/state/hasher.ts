/**
 * The hashes of the state (docs/protocol.md §2, §9) on 32-byte latin1 strings (one char per byte) instead
 * of Uint8Arrays: state keys H("iosnet/state-key/v1", u8(ns) || id), value hashes
 * H("iosnet/state-value/v1", record) and the tree's leaf and node hashes.
 *
 * Why strings: a block of 1,000 transfers among 100,000 accounts hashes ~18,000 tree nodes. Through
 * Crypto.sha256 (node:crypto hash with a Buffer result) one node hash costs ~2.0 µs; node:crypto's one-shot
 * hash with a latin1 result costs ~0.38 µs including writing both children into a reused buffer
 * (measured, Node 20, 2-core EPYC): the Buffer result allocates an ArrayBuffer with its own backing store,
 * a string lives on the V8 heap. A 32-char string also takes 48 heap bytes where a 32-byte Uint8Array
 * takes ~190 plus its backing store (measured), compares with === and < in byte order, and holds no
 * pointers for the garbage collector to trace.
 *
 * With the native Crypto the hasher calls node:crypto directly (the same SHA-256, the faster binding);
 * with any other Crypto it goes through crypto.sha256, so a portable or instrumented backend still sees
 * every hash. Both give the same strings (test/unit/gateway/state/trie.test.ts).
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import type { Crypto } from '../../core/crypto.js';
import { DomainTag, tagPrefix } from '../../core/hash.js';
import { latin1 } from '../util/latin1.js';

/**
 * The 64 data bytes of a leaf or node hash, after the tag prefix in one reused buffer, at a 4-byte aligned
 * offset so that the tree writes child hashes as 16 int32 words (trie.ts keeps hashes as words).
 */
export interface TreeScratch {
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  /** sha256(tag prefix || the 64 bytes), latin1. */
  digest(): string;
}

/**
 * Hands out the bytes of latin1 strings as views of 64 KiB chunks. Why not bytesOf: a small Uint8Array
 * lives on the V8 heap until something asks for its .buffer, and core's CBOR reader does (a DataView), which
 * moves it to a backing store of its own; sweeping those after young collections took ~5 ms per collection
 * with a block's records decoded from standalone arrays (measured). A view of a chunk has nothing to move.
 */
export class Latin1Arena {
  private chunk = new Uint8Array(0);
  private used = 0;

  bytes(s: string): Uint8Array {
    const n = s.length;
    if (this.used + n > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(n, 65536));
      this.used = 0;
    }
    const off = this.used;
    const chunk = this.chunk;
    for (let i = 0; i < n; i++) chunk[off + i] = s.charCodeAt(i);
    this.used += n;
    return new Uint8Array(chunk.buffer, off, n);
  }
}

export interface StateHasher {
  /** H("iosnet/state-key/v1", u8(namespace) || id), as a string. */
  stateKey(namespace: number, id: Uint8Array): string;
  /** H("iosnet/state-value/v1", record), as a string. */
  stateValue(record: Uint8Array): string;
  /** H("iosnet/smt-leaf/v1", key || valueHash). */
  readonly leaf: TreeScratch;
  /** H("iosnet/smt-node/v1", left || right); 32 zero bytes for an empty side. */
  readonly node: TreeScratch;
}

/** Room for the longest input: a tag prefix (< 32 bytes), u8 namespace and a record of up to 1 KiB. */
const SCRATCH_BYTES = 2048;

const hasOneShot = typeof oneShotHash === 'function';

// 'binary' is Node's alias of latin1 (one char per byte), the spelling its typings accept.
function sha256Latin1(data: Uint8Array): string {
  return hasOneShot
    ? oneShotHash('sha256', data, 'binary')
    : createHash('sha256').update(data).digest('binary');
}

/**
 * One reused buffer per tag: the tag prefix is written once, the variable part after it, and the hash
 * reads a view of exactly the bytes written (views are cached per length: creating one per hash costs
 * ~50 ns, a visible share of a 0.3 µs hash).
 */
class TaggedScratch {
  readonly buf: Buffer;
  readonly start: number;
  private readonly views: Buffer[] = [];

  constructor(tag: string, size: number) {
    const prefix = tagPrefix(tag);
    this.buf = Buffer.alloc(prefix.length + size);
    this.buf.set(prefix);
    this.start = prefix.length;
  }

  /** sha256 of the prefix and the first `n` bytes after it. */
  hash(n: number, sha: (data: Uint8Array) => string): string {
    let view = this.views[n];
    if (view === undefined) {
      view = this.buf.subarray(0, this.start + n);
      this.views[n] = view;
    }
    return sha(view);
  }
}

function treeScratch(tag: string, sha: (data: Uint8Array) => string): TreeScratch {
  const prefix = tagPrefix(tag);
  // The prefix ends where the data starts, at the next multiple of 4.
  const start = (prefix.length + 3) & ~3;
  const buffer = new ArrayBuffer(start + 64);
  const input = new Uint8Array(buffer, start - prefix.length, prefix.length + 64);
  input.set(prefix);
  const words = new Int32Array(buffer, start, 16);
  return { bytes: new Uint8Array(buffer, start, 64), words, digest: () => sha(input) };
}

export function createStateHasher(crypto: Crypto): StateHasher {
  const sha: (data: Uint8Array) => string =
    crypto.name === 'native' ? sha256Latin1 : (data) => latin1(crypto.sha256(data));
  const key = new TaggedScratch(DomainTag.stateKey, 1 + 255);
  const value = new TaggedScratch(DomainTag.stateValue, SCRATCH_BYTES);
  return {
    stateKey(namespace, id) {
      key.buf[key.start] = namespace;
      key.buf.set(id, key.start + 1);
      return key.hash(1 + id.length, sha);
    },
    stateValue(record) {
      if (record.length > SCRATCH_BYTES)
        return latin1(crypto.sha256(tagPrefix(DomainTag.stateValue), record));
      value.buf.set(record, value.start);
      return value.hash(record.length, sha);
    },
    leaf: treeScratch(DomainTag.smtLeaf, sha),
    node: treeScratch(DomainTag.smtNode, sha),
  };
}
