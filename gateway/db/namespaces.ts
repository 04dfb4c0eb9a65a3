/**
 * The numbered namespaces of a node's LMDB environment: one named sub-database per stored kind (lodestar's
 * bucket habit). A number is never reused once assigned, even after its kind is retired, so an old data
 * directory can never be misread by a newer build. Keys and values are raw bytes: our canonical CBOR
 * objects or the fixed binary layouts named here (no msgpack, no JSON).
 */
export const DbNamespace = {
  /** Small named values: heights, checkpoints, the genesis hash the directory belongs to. utf8 key. */
  meta: 1,
  /** u64be(height) -> Block bytes exactly as finalized (header, transactions, parent's certificate). */
  block: 2,
  /** u64be(height) -> FinalityCertificate bytes of that block (the next block carries it too). */
  certificate: 3,
  /** u64be(height) -> blockId. Kept after pruning, so ids of old heights stay answerable. */
  blockId: 4,
  /** blockId -> u64be(height). Kept after pruning. */
  blockHeight: 5,
  /**
   * txId -> u64be(height) || u32be(index in block). Archive nodes only (a pruned node scans blockTxIds of
   * its few retained blocks instead); deleted with the block body.
   */
  txIndex: 6,
  /** u64be(state block index) -> StateBlock bytes. Never pruned. */
  stateBlock: 7,
  /** committeeHash -> Committee bytes, for every committee a stored state block names. Never pruned. */
  committee: 8,
  /** stateKey -> u8(namespace) || u8(idLength) || id || record bytes: the state at the latest checkpoint. */
  stateRecord: 9,
  /**
   * u64be(checkpoint) || last stateKey of a folded slice -> change list (gateway/state/store-format.ts) of
   * the slice's values at the previous checkpoint. Compressed.
   */
  stateUndo: 10,
  /** owner address -> empty: which validators exist at the latest checkpoint (for listValidators). */
  validatorIndex: 11,
  /** SMT NodeKey (core/smt.ts) -> encodeSmtNode bytes: tree nodes of the persisted versions. */
  smtNode: 12,
  /** u64be(checkpoint) -> node keys (u8 length || key, concatenated) that version no longer references. */
  smtStale: 13,
  /**
   * u64be(height) -> root || change list of one block after the previous checkpoint (write-ahead log).
   * Compressed. The state's meta mark `state/format` names the layout of these two (store-format.ts).
   */
  stateDelta: 14,
  /** u64be(height) || u32be(view) || u8(phase) -> blockId this node signed: never sign two (no self-equivocation). */
  consensusVote: 15,
  /** u64be(height) -> [blockId, view] this node is locked on (docs/consensus.md §4.2), kept across restarts. */
  consensusLock: 16,
  /** utf8 endpoint "host:port" -> peer id (hex node key) last seen there: where to dial after a restart. */
  peer: 17,
  /**
   * u64be(height) -> the first TX_ID_PREFIX_BYTES of each tx id of that block, concatenated in block order
   * (~1% of the body). Written with every block, deleted with its body: a pruned node's tx lookup.
   */
  blockTxIds: 18,
} as const;

export type DbNamespaceName = keyof typeof DbNamespace;

/**
 * Namespaces whose values lmdb-js compresses (LZ4, values of 1,000 bytes or more; smaller ones stay as they
 * are). A property of the on-disk layout, not a tunable: a namespace must always be opened with the same
 * setting. Only namespaces of large values gain: a block of 1,000 transfers (168 KB with random Ed25519
 * signatures) shrinks to 0.85, a state delta to ~0.8 (measured); records (~100 bytes) would not.
 * Values written uncompressed by older builds still read: lmdb-js decompresses only values whose first byte
 * is >= 250, which a block (a CBOR array, 0x8_) never starts with; the state's namespaces carry a format mark.
 */
export const COMPRESSED_NAMESPACES: ReadonlySet<DbNamespaceName> = new Set([
  'block',
  'stateDelta',
  'stateUndo',
]);

/** Bytes of a tx id kept per transaction in blockTxIds: collisions are resolved against the block. */
export const TX_ID_PREFIX_BYTES = 8;

/** Sub-database name: the number first, so a listing of the environment sorts by number. */
export function namespaceDbName(name: DbNamespaceName): string {
  return `${String(DbNamespace[name]).padStart(2, '0')}-${name}`;
}

/** u64be of a safe integer, the key layout of every per-height and per-index namespace. */
export function heightKey(height: number): Uint8Array {
  const out = new Uint8Array(8);
  writeU64(out, 0, height);
  return out;
}

export function writeU64(out: Uint8Array, offset: number, value: number): void {
  const hi = Math.floor(value / 0x100000000);
  const lo = value >>> 0;
  out[offset] = hi >>> 24;
  out[offset + 1] = (hi >>> 16) & 0xff;
  out[offset + 2] = (hi >>> 8) & 0xff;
  out[offset + 3] = hi & 0xff;
  out[offset + 4] = lo >>> 24;
  out[offset + 5] = (lo >>> 16) & 0xff;
  out[offset + 6] = (lo >>> 8) & 0xff;
  out[offset + 7] = lo & 0xff;
}

export function readU64(bytes: Uint8Array, offset = 0): number {
  const hi =
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0;
  const lo =
    ((bytes[offset + 4]! << 24) |
      (bytes[offset + 5]! << 16) |
      (bytes[offset + 6]! << 8) |
      bytes[offset + 7]!) >>>
    0;
  return hi * 0x100000000 + lo;
}
