/**
 * Transactions admitted through the API go to the peers in batches ('txs' PeerMessage): one frame per
 * `gossipFlushMs` or per `gossipBatchTxs` transactions, whichever comes first, rather than one frame per
 * transaction (each frame is encrypted and length-prefixed; batching is what lets a gateway accept
 * thousands of tx/s from a load generator).
 */
import type { Network } from '../network/interface.js';
import type { ApiOptions } from './options.js';

export class TxGossip {
  private queue: Uint8Array[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly opts: Pick<ApiOptions, 'gossipFlushMs' | 'gossipBatchTxs'>,
    private readonly deps: { readonly network: Pick<Network, 'broadcast'> },
  ) {}

  push(tx: Uint8Array): void {
    if (this.closed) return;
    this.queue.push(tx);
    if (this.queue.length >= this.opts.gossipBatchTxs) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.opts.gossipFlushMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const txs = this.queue.splice(0, this.opts.gossipBatchTxs);
      this.deps.network.broadcast({ type: 'txs', txs });
    }
  }

  /** Sends what is queued and accepts nothing more. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
