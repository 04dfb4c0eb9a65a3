/**
 * The node's key-value store: numbered namespaces of byte keys to byte values, synchronous reads (the
 * sparse Merkle tree's node store is synchronous) and atomic write transactions, so that a block, its
 * certificate, its index entries and the state written with it land together or not at all.
 */
import { IosnetError } from '../../core/errors.js';
import type { DbNamespaceName } from './namespaces.js';

export type DbErrorCode = 'DB_NO_TRANSACTION' | 'DB_CLOSED' | 'DB_CORRUPT';

export class DbError extends IosnetError<DbErrorCode> {}

export interface RangeQuery {
  /** Inclusive lower bound (or upper bound when reverse). */
  readonly start?: Uint8Array;
  /** Exclusive bound. */
  readonly end?: Uint8Array;
  readonly reverse?: boolean;
  readonly limit?: number;
}

/** One namespace. Values and keys handed out are fresh copies the caller owns. */
export interface DbBucket {
  get(key: Uint8Array): Uint8Array | undefined;
  has(key: Uint8Array): boolean;
  /** Only inside Database.transaction. `append` is a promise that key sorts after every stored key. */
  put(key: Uint8Array, value: Uint8Array, options?: { append?: boolean }): void;
  /** Only inside Database.transaction; true if something was deleted. */
  delete(key: Uint8Array): boolean;
  range(query?: RangeQuery): Iterable<[Uint8Array, Uint8Array]>;
  keys(query?: RangeQuery): Iterable<Uint8Array>;
}

export interface DiskUsage {
  /** Size of the data file: LMDB's high-water mark, which includes pages on its free list. */
  readonly fileBytes: number;
  /** Pages that hold live data (branch, leaf and overflow pages of every namespace) times the page size. */
  readonly usedBytes: number;
  /** usedBytes per namespace. */
  readonly byNamespace: Readonly<Record<string, number>>;
}

export interface Database {
  readonly path: string;
  bucket(name: DbNamespaceName): DbBucket;
  /**
   * Runs fn in one atomic write transaction and returns its result; a throw rolls everything back.
   * Nested calls join the outermost transaction (all or nothing together).
   */
  transaction<T>(fn: () => T): T;
  /** Inside a transaction: runs fn once the outermost transaction has committed (never if it aborts). */
  afterCommit(fn: () => void): void;
  readonly inTransaction: boolean;
  diskUsage(): DiskUsage;
  close(): Promise<void>;
}
