/**
 * Byte layouts of the state's LMDB values (namespaces: gateway/db/namespaces.ts; docs/state-records.md).
 * State keys are 32-byte latin1 strings in memory (hasher.ts) and raw bytes on disk.
 */
import { StateError } from './errors.js';

/** A stored record: which namespace and id it is (the key is a hash of them) and its bytes. */
export interface StoredRecord {
  readonly namespace: number;
  readonly id: Uint8Array;
  readonly record: Uint8Array;
}

/** stateRecord value: u8(namespace) || u8(idLength) || id || record bytes. */
export function encodeStoredRecord(r: StoredRecord): Uint8Array {
  const out = new Uint8Array(2 + r.id.length + r.record.length);
  out[0] = r.namespace;
  out[1] = r.id.length;
  out.set(r.id, 2);
  out.set(r.record, 2 + r.id.length);
  return out;
}

export function decodeStoredRecord(bytes: Uint8Array): StoredRecord {
  const idLength = bytes[1]!;
  if (bytes.length < 3 + idLength) throw new StateError('STATE_CORRUPT', 'stored record too short');
  return {
    namespace: bytes[0]!,
    id: bytes.subarray(2, 2 + idLength),
    record: bytes.subarray(2 + idLength),
  };
}

/** The record bytes of a stored record (after namespace and id). */
export function recordOf(stored: Uint8Array): Uint8Array {
  return stored.subarray(2 + stored[1]!);
}

/** One key's stored record, null when the key is (or was) absent. */
export type Change = readonly [key: string, stored: Uint8Array | null];

const DELETED = 0xffffffff;

/** u32 count || (key32 || u32 length (0xffffffff = absent) || value)*, after `head` (e.g. a root). */
export function encodeChanges(changes: readonly Change[], head?: Uint8Array): Uint8Array {
  const start = head?.length ?? 0;
  let size = start + 4;
  for (const [, v] of changes) size += 36 + (v?.length ?? 0);
  const out = Buffer.alloc(size);
  if (head !== undefined) out.set(head);
  out.writeUInt32BE(changes.length, start);
  let off = start + 4;
  for (const [k, v] of changes) {
    out.write(k, off, 'latin1');
    out.writeUInt32BE(v === null ? DELETED : v.length, off + 32);
    off += 36;
    if (v !== null) {
      out.set(v, off);
      off += v.length;
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export function decodeChanges(bytes: Uint8Array, start = 0): Change[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const corrupt = () => new StateError('STATE_CORRUPT', 'malformed list of record changes');
  if (buf.length < start + 4) throw corrupt();
  const n = buf.readUInt32BE(start);
  const changes: Change[] = [];
  let off = start + 4;
  for (let i = 0; i < n; i++) {
    if (off + 36 > buf.length) throw corrupt();
    const key = buf.toString('latin1', off, off + 32);
    const len = buf.readUInt32BE(off + 32);
    off += 36;
    if (len === DELETED) {
      changes.push([key, null]);
      continue;
    }
    if (off + len > buf.length) throw corrupt();
    changes.push([key, bytes.slice(off, off + len)]);
    off += len;
  }
  if (off !== buf.length) throw corrupt();
  return changes;
}

/** stateDelta value: the root after the block || its record changes. */
export interface BlockDelta {
  readonly root: Uint8Array;
  readonly changes: Change[];
}

export function encodeDelta(d: BlockDelta): Uint8Array {
  return encodeChanges(d.changes, d.root);
}

export function decodeDelta(bytes: Uint8Array): BlockDelta {
  if (bytes.length < 36) throw new StateError('STATE_CORRUPT', 'state delta too short');
  return { root: bytes.slice(0, 32), changes: decodeChanges(bytes, 32) };
}

/** Key of an undo chunk: u64be(checkpoint) || the chunk's last state key. */
export function undoKey(checkpoint: Uint8Array, lastKey: string): Uint8Array {
  const out = Buffer.alloc(40);
  out.set(checkpoint);
  out.write(lastKey, 8, 'latin1');
  return new Uint8Array(out.buffer, out.byteOffset, 40);
}

/** Disk form of a latin1 state key. */
export function keyBytes(key: string): Uint8Array {
  return Buffer.from(key, 'latin1');
}

export const META = {
  genesis: 'state/genesis',
  checkpoint: 'state/checkpoint',
  checkpointRoot: 'state/checkpointRoot',
  previousCheckpoint: 'state/previousCheckpoint',
  previousCheckpointRoot: 'state/previousCheckpointRoot',
} as const;

const utf8 = new TextEncoder();
export function metaKey(name: string): Uint8Array {
  return utf8.encode(name);
}
