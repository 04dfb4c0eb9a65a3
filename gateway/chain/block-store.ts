/**
 * BlockStore over LMDB (layout: gateway/db/namespaces.ts). Bodies are stored as the exact bytes that were
 * finalized (LZ4-compressed on disk by the db layer, returned byte-identical), so a peer or light client
 * gets byte-identical blocks and every id recomputes. Signatures are not checked here: consensus stores
 * only blocks it has verified.
 *
 * Finding a transaction: an archive node keeps txIndex (txId -> location), one random-key entry per
 * transaction ever. A pruned node keeps no such index: it retains only a few dozen blocks (two state-block
 * intervals), and their 8-byte tx id prefixes (blockTxIds, one appended value per block, ~1% of the body)
 * are scanned instead (at most ~48 values of 8 KB for 1,000-transfer blocks). A random-key
 * index pruned at the tail cost 4.6 MB for 40,000 entries in the storage benchmark (B-tree pages left
 * ~half empty by the deletes, measured); the prefixes of the same blocks take 0.33 MB.
 */
import { blockHeaderOf, type ParsedBlock, parseBlock } from '../../core/block.js';
import { equalBytes } from '../../core/bytes.js';
import { type Committee, committeeHash, decodeCommittee, encodeCommittee } from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import {
  type BlockHeader,
  decodeFinalityCertificate,
  encodeFinalityCertificate,
  type FinalityCertificate,
} from '../../core/header.js';
import { merkleProof } from '../../core/merkle.js';
import {
  decodeStateBlock,
  encodeStateBlock,
  type StateBlock,
  stateBlockIdOf,
} from '../../core/state-block.js';
import { encodeTx } from '../../core/tx.js';
import { verifyStateBlockLink } from '../../core/verify.js';
import type { Database, DbBucket } from '../db/interface.js';
import { heightKey, readU64, TX_ID_PREFIX_BYTES, writeU64 } from '../db/namespaces.js';
import {
  type BlockStore,
  ChainError,
  type FinalizedBlock,
  type TxLocation,
  type TxWithProof,
} from './interface.js';
import { type ChainStoreOptions, defaultChainStoreOptions } from './options.js';

const utf8 = new TextEncoder();
const META_FINALIZED = utf8.encode('chain/finalizedHeight');
const META_PRUNED = utf8.encode('chain/prunedBelow');
const META_STATE_BLOCKS = utf8.encode('chain/stateBlockCount');

export interface ChainStoreDependencies {
  readonly db: Database;
  readonly crypto: Crypto;
}

export class LmdbBlockStore implements BlockStore {
  readonly options: ChainStoreOptions;
  private readonly db: Database;
  private readonly crypto: Crypto;
  private readonly blocks: DbBucket;
  private readonly certificates: DbBucket;
  private readonly ids: DbBucket;
  private readonly heights: DbBucket;
  private readonly txIndex: DbBucket;
  private readonly blockTxIds: DbBucket;
  /** height -> its blockTxIds value, for heights read since they were last pruned (at most the retained). */
  private readonly txIdTables = new Map<number, Buffer>();
  private readonly stateBlocks: DbBucket;
  private readonly committees: DbBucket;
  private readonly meta: DbBucket;
  private finalized: number;
  private pruned: number;
  private stateBlockCount: number;

  constructor(options: Partial<ChainStoreOptions>, deps: ChainStoreDependencies) {
    this.options = { ...defaultChainStoreOptions, ...options };
    this.db = deps.db;
    this.crypto = deps.crypto;
    this.blocks = deps.db.bucket('block');
    this.certificates = deps.db.bucket('certificate');
    this.ids = deps.db.bucket('blockId');
    this.heights = deps.db.bucket('blockHeight');
    this.txIndex = deps.db.bucket('txIndex');
    this.blockTxIds = deps.db.bucket('blockTxIds');
    this.stateBlocks = deps.db.bucket('stateBlock');
    this.committees = deps.db.bucket('committee');
    this.meta = deps.db.bucket('meta');
    const read = (k: Uint8Array) => {
      const v = this.meta.get(k);
      return v === undefined ? 0 : readU64(v);
    };
    this.finalized = read(META_FINALIZED);
    this.pruned = read(META_PRUNED) || 1;
    this.stateBlockCount = read(META_STATE_BLOCKS);
  }

  get finalizedHeight(): number {
    return this.finalized;
  }

  get prunedBelow(): number {
    return this.pruned;
  }

  /** A node bootstrapped from a state block at `height` starts its block store there. */
  bootstrap(height: number): void {
    if (this.finalized !== 0 || this.stateBlockCount !== 0) {
      throw new ChainError('CHAIN_NOT_EMPTY', 'bootstrap needs an empty block store');
    }
    // In memory at once, not after commit: the caller stores the block at height + 1 in the same transaction
    // (gateway/sync/bootstrap.ts). If that transaction fails the node exits, so nothing reads these values.
    this.db.transaction(() => {
      this.meta.put(META_FINALIZED, heightKey(height));
      this.meta.put(META_PRUNED, heightKey(height + 1));
    });
    this.finalized = height;
    this.pruned = height + 1;
  }

  putFinalized({ block, certificate }: FinalizedBlock): void {
    const { header } = block.block;
    const height = header.height;
    const fail = (reason: string) => {
      throw new ChainError('CHAIN_NOT_SUCCESSOR', `block ${height}: ${reason}`, {
        height,
        finalized: this.finalized,
      });
    };
    if (height !== this.finalized + 1) fail(`expected height ${this.finalized + 1}`);
    const parentId = this.ids.get(heightKey(height - 1));
    if (parentId !== undefined && !equalBytes(parentId, header.parent)) fail('parent is not the last block');
    if (!equalBytes(certificate.blockId, block.blockId) || certificate.height !== height) {
      fail('certificate is for another block');
    }
    const hk = heightKey(height);
    this.db.transaction(() => {
      this.blocks.put(hk, block.bytes, { append: true });
      this.certificates.put(hk, encodeFinalityCertificate(certificate), { append: true });
      this.ids.put(hk, block.blockId, { append: true });
      this.heights.put(block.blockId, hk);
      const prefixes = new Uint8Array(block.txIds.length * TX_ID_PREFIX_BYTES);
      for (let i = 0; i < block.txIds.length; i++) {
        prefixes.set(block.txIds[i]!.subarray(0, TX_ID_PREFIX_BYTES), i * TX_ID_PREFIX_BYTES);
      }
      this.blockTxIds.put(hk, prefixes, { append: true });
      if (this.options.archive) {
        const location = new Uint8Array(12);
        writeU64(location, 0, height);
        for (let i = 0; i < block.txIds.length; i++) {
          new DataView(location.buffer).setUint32(8, i);
          this.txIndex.put(block.txIds[i]!, location);
        }
      }
      this.meta.put(META_FINALIZED, hk);
      this.db.afterCommit(() => {
        this.finalized = height;
      });
    });
  }

  getBlockBytes(height: number): Uint8Array | undefined {
    return this.blocks.get(heightKey(height));
  }

  getBlock(height: number): ParsedBlock | undefined {
    const bytes = this.getBlockBytes(height);
    return bytes === undefined ? undefined : parseBlock(this.crypto, bytes);
  }

  getHeader(height: number): BlockHeader | undefined {
    const bytes = this.getBlockBytes(height);
    return bytes === undefined ? undefined : blockHeaderOf(bytes);
  }

  getCertificate(height: number): FinalityCertificate | undefined {
    const bytes = this.certificates.get(heightKey(height));
    return bytes === undefined ? undefined : decodeFinalityCertificate(bytes);
  }

  getBlockId(height: number): Uint8Array | undefined {
    return this.ids.get(heightKey(height));
  }

  getHeight(blockId: Uint8Array): number | undefined {
    const v = this.heights.get(blockId);
    return v === undefined ? undefined : readU64(v);
  }

  getTxLocation(txId: Uint8Array): TxLocation | undefined {
    return this.findTx(txId)?.location;
  }

  /**
   * The location of a stored transaction and its parsed block: txIndex when this node has one for it,
   * otherwise the retained blocks' tx id prefixes, newest first, each hit checked against the block's ids
   * (a prefix may be shared; a full id never is).
   */
  private findTx(txId: Uint8Array): { location: TxLocation; parsed: ParsedBlock } | undefined {
    const v = this.txIndex.get(txId);
    if (v !== undefined) {
      const location = { height: readU64(v), index: new DataView(v.buffer, v.byteOffset).getUint32(8) };
      const parsed = this.getBlock(location.height);
      if (parsed === undefined) return undefined;
      if (!equalBytes(parsed.txIds[location.index] ?? new Uint8Array(0), txId)) {
        throw new ChainError('CHAIN_CORRUPT', 'tx index points to another transaction', { ...location });
      }
      return { location, parsed };
    }
    if (this.options.archive || txId.length < TX_ID_PREFIX_BYTES) return undefined;
    const prefix = Buffer.from(txId.buffer, txId.byteOffset, TX_ID_PREFIX_BYTES);
    for (let height = this.finalized; height >= this.pruned; height--) {
      const table = this.txIdTable(height);
      if (table === undefined) continue;
      for (let at = table.indexOf(prefix); at !== -1; at = table.indexOf(prefix, at + 1)) {
        if (at % TX_ID_PREFIX_BYTES !== 0) continue;
        const location = { height, index: at / TX_ID_PREFIX_BYTES };
        const parsed = this.getBlock(location.height);
        if (parsed !== undefined && equalBytes(parsed.txIds[location.index] ?? new Uint8Array(0), txId)) {
          return { location, parsed };
        }
      }
    }
    return undefined;
  }

  /**
   * The tx id prefixes of a final block, cached: a final block never changes, and without the cache every
   * lookup of an unknown id (a client polling a pending transaction) reads every retained table again.
   */
  private txIdTable(height: number): Buffer | undefined {
    let table = this.txIdTables.get(height);
    if (table === undefined) {
      const ids = this.blockTxIds.get(heightKey(height));
      if (ids === undefined) return undefined;
      table = Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength);
      this.txIdTables.set(height, table);
    }
    return table;
  }

  getTransaction(txId: Uint8Array): TxWithProof | undefined {
    const found = this.findTx(txId);
    if (found === undefined) return undefined;
    const { location, parsed } = found;
    const certificate = this.getCertificate(location.height);
    if (certificate === undefined) return undefined;
    const tx = parsed.block.txs[location.index]!;
    return {
      ...location,
      tx,
      txBytes: encodeTx(tx),
      proof: {
        header: parsed.block.header,
        proof: merkleProof(this.crypto, parsed.txIds, location.index),
        certificate,
      },
      grade: 2,
    };
  }

  putStateBlock(stateBlock: StateBlock, committees: readonly Committee[]): void {
    const invalid = (reason: string) => {
      throw new ChainError('CHAIN_STATE_BLOCK_INVALID', `state block ${stateBlock.index}: ${reason}`, {
        index: stateBlock.index,
      });
    };
    if (stateBlock.index !== this.stateBlockCount) invalid(`expected index ${this.stateBlockCount}`);
    const prev = this.latestStateBlock();
    if (prev !== undefined) {
      try {
        verifyStateBlockLink(prev, stateBlockIdOf(this.crypto, prev), stateBlock);
      } catch (err) {
        invalid((err as Error).message);
      }
    }
    const byHash = new Map<string, Committee>();
    for (const c of committees) byHash.set(committeeHash(this.crypto, c).join(','), c);
    this.db.transaction(() => {
      for (const hash of [stateBlock.committee, stateBlock.nextCommittee]) {
        const c = byHash.get(hash.join(','));
        if (c !== undefined) this.committees.put(hash, encodeCommittee(c));
        else if (!this.committees.has(hash)) invalid('a committee it names is missing');
      }
      this.stateBlocks.put(heightKey(stateBlock.index), encodeStateBlock(stateBlock), { append: true });
      this.meta.put(META_STATE_BLOCKS, heightKey(stateBlock.index + 1));
      if (!this.options.archive && prev !== undefined) this.pruneBelow(prev.fromHeight);
      this.db.afterCommit(() => {
        this.stateBlockCount = stateBlock.index + 1;
      });
    });
  }

  getStateBlock(index: number): StateBlock | undefined {
    const bytes = this.stateBlocks.get(heightKey(index));
    return bytes === undefined ? undefined : decodeStateBlock(bytes);
  }

  latestStateBlock(): StateBlock | undefined {
    return this.stateBlockCount === 0 ? undefined : this.getStateBlock(this.stateBlockCount - 1);
  }

  getCommittee(hash: Uint8Array): Committee | undefined {
    const bytes = this.committees.get(hash);
    return bytes === undefined ? undefined : decodeCommittee(bytes);
  }

  pruneBelow(height: number): number {
    const target = Math.min(height, this.finalized + 1);
    if (target <= this.pruned) return 0;
    let count = 0;
    // Only a directory that ran as an archive holds txIndex entries to delete (parsing the block for them).
    const indexed = this.options.archive || !this.txIndexEmpty();
    this.db.transaction(() => {
      for (let h = this.pruned; h < target; h++) {
        const hk = heightKey(h);
        if (indexed) {
          const parsed = this.getBlock(h);
          if (parsed !== undefined) for (const id of parsed.txIds) this.txIndex.delete(id);
        }
        if (this.blocks.delete(hk)) count++;
        this.certificates.delete(hk);
        this.blockTxIds.delete(hk);
      }
      this.meta.put(META_PRUNED, heightKey(target));
      this.db.afterCommit(() => {
        for (const h of this.txIdTables.keys()) if (h < target) this.txIdTables.delete(h);
        this.pruned = target;
      });
    });
    return count;
  }

  private txIndexEmpty(): boolean {
    for (const _ of this.txIndex.keys({ limit: 1 })) return false;
    return true;
  }
}
