/**
 * SigningGuard over the node's database: a vote is recorded durably before it is signed and sent, so a
 * validator that crashes and restarts can never sign a second, different block for the same (height, view,
 * phase) — which would be equivocation, slashable, by an honest node.
 */
import { CborReader, CborWriter } from '../../core/cbor.js';
import { HASH_BYTES } from '../../core/identity.js';
import type { Database } from '../db/interface.js';
import { heightKey, writeU64 } from '../db/namespaces.js';
import type { SigningGuard } from './interface.js';
import type { VotePhaseValue } from './messages.js';

function voteKey(height: number, view: number, phase: number): Uint8Array {
  const k = new Uint8Array(13);
  writeU64(k, 0, height);
  new DataView(k.buffer).setUint32(8, view);
  k[12] = phase;
  return k;
}

/** The valid block's record sits beside the lock of its height (same bucket, so pruneBelow drops both). */
function validKey(height: number): Uint8Array {
  const k = new Uint8Array(9);
  k.set(heightKey(height));
  k[8] = 1;
  return k;
}

export class DbSigningGuard implements SigningGuard {
  constructor(private readonly db: Database) {}

  voteFor(
    height: number,
    view: number,
    phase: VotePhaseValue,
    wanted: Uint8Array,
    alsoRecord?: () => void,
  ): Uint8Array {
    const votes = this.db.bucket('consensusVote');
    const key = voteKey(height, view, phase);
    const prior = votes.get(key);
    if (prior) {
      if (alsoRecord) this.db.transaction(alsoRecord);
      return prior;
    }
    // Durable before the signature leaves the node (LMDB commits synchronously unless noSync), in one commit
    // with the records that go with it (a lock and its valid block): one fsync instead of three.
    this.db.transaction(() => {
      alsoRecord?.();
      votes.put(key, wanted);
    });
    return wanted;
  }

  loadLock(height: number): { blockId: Uint8Array; view: number } | undefined {
    const bytes = this.db.bucket('consensusLock').get(heightKey(height));
    if (!bytes) return undefined;
    const r = new CborReader(bytes);
    r.array('lock', 2);
    const blockId = r.bytesField('lock.blockId', HASH_BYTES);
    const view = r.uint('lock.view');
    return { blockId, view };
  }

  saveLock(height: number, lock: { blockId: Uint8Array; view: number }): void {
    const bytes = new CborWriter(48).array(2).bytes(lock.blockId).uint(lock.view).finish();
    this.db.transaction(() => this.db.bucket('consensusLock').put(heightKey(height), bytes));
  }

  loadValid(height: number): { view: number; blockBytes: Uint8Array; certificate: Uint8Array } | undefined {
    const bytes = this.db.bucket('consensusLock').get(validKey(height));
    if (!bytes) return undefined;
    const r = new CborReader(bytes);
    r.array('valid', 3);
    const view = r.uint('valid.view');
    const blockBytes = r.bytesField('valid.block');
    const certificate = r.bytesField('valid.certificate');
    return { view, blockBytes, certificate };
  }

  saveValid(height: number, v: { view: number; blockBytes: Uint8Array; certificate: Uint8Array }): void {
    const bytes = new CborWriter(v.blockBytes.length + v.certificate.length + 32)
      .array(3)
      .uint(v.view)
      .bytes(v.blockBytes)
      .bytes(v.certificate)
      .finish();
    this.db.transaction(() => this.db.bucket('consensusLock').put(validKey(height), bytes));
  }

  /** Drops records below a height: once a height is final, its votes can no longer conflict. */
  pruneBelow(height: number): void {
    this.db.transaction(() => {
      for (const name of ['consensusVote', 'consensusLock'] as const) {
        const b = this.db.bucket(name);
        for (const k of b.keys({ end: heightKey(height) })) b.delete(k);
      }
    });
  }
}
