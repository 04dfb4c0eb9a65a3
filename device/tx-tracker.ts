/**
 * The device's own transactions between submission and finality: which nonce each holds, when it expires,
 * and the nonce the next one takes. Bounded (`max` entries), and the only place that decides what a
 * gateway's "not included" means for a transaction of ours:
 *   - our proven nonce has passed its nonce: the nonce was used, and only this device signs for this
 *     account, so it was included and the gateway hides it (DEVICE_TX_HIDDEN);
 *   - it is past its expiry and the nonce is unused: it can never be included ('expired'), its nonce is free;
 *   - otherwise it is still pending.
 */
import { toHex } from '../core/bytes.js';
import { DeviceError } from './errors.js';

export interface SubmittedTx {
  readonly id: Uint8Array;
  readonly nonce: number;
  readonly expiry: number;
}

export type PendingVerdict = 'pending' | 'expired';

export class TxTracker {
  private readonly txs = new Map<string, SubmittedTx>();
  /** The nonce the next transaction takes; null until a proven account says. */
  private next: number | null = null;

  constructor(
    private readonly max: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.txs.size;
  }

  /** Drops expired entries; true when the next nonce must come from a proven account first. */
  needsNonce(): boolean {
    this.pruneExpired();
    return this.next === null;
  }

  get(id: Uint8Array): SubmittedTx | undefined {
    return this.txs.get(toHex(id));
  }

  /** A proven account nonce: the next nonce is at least that. */
  observeNonce(accountNonce: number): void {
    if (this.next === null || this.next < accountNonce) this.next = accountNonce;
  }

  /**
   * Takes the next nonce synchronously (concurrent submissions never share one); `release` gives it back
   * if the submission failed before the gateway took it.
   */
  reserve(): { nonce: number; release(): void } {
    this.pruneExpired();
    if (this.txs.size >= this.max) {
      throw new DeviceError('DEVICE_TOO_MANY_PENDING', `${this.txs.size} transactions not yet final`, {
        max: this.max,
      });
    }
    if (this.next === null)
      throw new DeviceError('DEVICE_NOT_SYNCED', 'nonce unknown: prove the account first');
    const nonce = this.next++;
    return {
      nonce,
      release: () => {
        if (this.next === nonce + 1) this.next = nonce;
      },
    };
  }

  add(tx: SubmittedTx): void {
    this.txs.set(toHex(tx.id), tx);
  }

  /** Final (grade 2): no longer ours to watch. */
  finalized(id: Uint8Array): void {
    this.txs.delete(toHex(id));
  }

  /** What "not included" means for `tx`, given the proven account nonce (see the header). */
  judge(tx: SubmittedTx, accountNonce: number, claimed: string): PendingVerdict {
    if (accountNonce > tx.nonce) {
      throw new DeviceError(
        'DEVICE_TX_HIDDEN',
        `gateway says ${claimed}, but nonce ${tx.nonce} is used (account nonce ${accountNonce})`,
        { nonce: tx.nonce, accountNonce },
      );
    }
    if (this.now() > tx.expiry) {
      this.txs.delete(toHex(tx.id));
      // Its nonce is free again (and any later pending ones can no longer be included before it).
      this.next = accountNonce;
      return 'expired';
    }
    return 'pending';
  }

  private pruneExpired(): void {
    const now = this.now();
    let expired = false;
    for (const [k, t] of this.txs) {
      if (now > t.expiry) {
        this.txs.delete(k);
        expired = true;
      }
    }
    // An expired transaction may have left a gap: ask the chain for the nonce again.
    if (expired) this.next = null;
  }
}
