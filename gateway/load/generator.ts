/**
 * A transfer load generator for devnets and benchmarks: funds a set of fresh accounts from one funder key
 * (the devnet's private-sale bucket), then sends transfers between them at a target rate, spread over the
 * gateways through POST /txs/batch.
 *
 * Nonces: each account keeps its next nonce locally and is pinned to one gateway, so its transactions
 * reach one mempool in nonce order (another gateway could see nonce n+1 before n arrives by gossip). After
 * a refusal the account pauses, then re-reads its nonce from the gateway and goes on from there.
 */
import { toHex } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError } from '../../core/errors.js';
import { addressOf } from '../../core/identity.js';
import { encodeTx, signTx, type TxPayload } from '../../core/tx.js';
import type { GatewayClient } from '../api/client.js';

export interface LoadOptions {
  /** Transfers per second, over all gateways. */
  readonly tps: number;
  /** Sending accounts (default: enough that each sends a few per second). */
  readonly accounts: number;
  /** What each account receives from the funder. */
  readonly fundAmount: bigint;
  /** Each transfer moves 1..maxAmount smallest units. */
  readonly maxAmount: bigint;
  readonly tickMs: number;
  readonly expiryMs: number;
  /** After a refusal, an account waits this long before re-reading its nonce. */
  readonly pauseMs: number;
  /** Batch requests in flight per gateway at most; beyond that the generator falls behind, not queues up. */
  readonly maxInFlight: number;
  /** How long funding may take to become final. */
  readonly fundTimeoutMs: number;
}

export function defaultLoadOptions(tps: number): LoadOptions {
  return {
    tps,
    accounts: Math.min(256, Math.max(8, Math.ceil(tps / 2))),
    fundAmount: 1_000_000n * 100_000_000n,
    maxAmount: 1000n,
    tickMs: 50,
    expiryMs: 120_000,
    pauseMs: 1000,
    maxInFlight: 2,
    fundTimeoutMs: 60_000,
  };
}

export interface LoadKey {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
}

interface Sender extends LoadKey {
  readonly gateway: number;
  nonce: number;
  pausedUntil: number;
  resyncing: boolean;
}

export interface LoadStats {
  readonly accounts: number;
  /** Transactions signed and sent. */
  readonly sent: number;
  readonly admitted: number;
  /** Refusals by error code. */
  readonly refused: Readonly<Record<string, number>>;
  /** Batch requests that failed in transport (gateway down, timeout). */
  readonly transportErrors: number;
  readonly fundedAt: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LoadGenerator {
  private senders: Sender[] = [];
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private generated = 0;
  private next = 0;
  private readonly inFlight: number[];
  private readonly pending = new Set<Promise<void>>();
  private stats = {
    sent: 0,
    admitted: 0,
    refused: {} as Record<string, number>,
    transportErrors: 0,
    fundedAt: null as number | null,
  };

  constructor(
    private readonly opts: LoadOptions,
    private readonly deps: {
      readonly crypto: Crypto;
      readonly chainId: string;
      readonly funder: LoadKey;
      readonly gateways: readonly GatewayClient[];
      readonly now?: () => number;
    },
  ) {
    this.inFlight = deps.gateways.map(() => 0);
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private sign(key: LoadKey, nonce: number, payload: TxPayload): { bytes: Uint8Array; id: string } {
    const { tx, id } = signTx(
      this.deps.crypto,
      {
        chainId: this.deps.chainId,
        sender: key.publicKey,
        nonce,
        expiry: this.now() + this.opts.expiryMs,
        fee: 0n,
        payload,
      },
      [key.secretKey],
    );
    return { bytes: encodeTx(tx), id: toHex(id) };
  }

  /** Creates the accounts and funds them; resolves when the funding is final. */
  async fund(): Promise<void> {
    const { crypto, funder, gateways } = this.deps;
    const gateway = gateways[0]!;
    this.senders = Array.from({ length: this.opts.accounts }, (_, i) => {
      const secretKey = crypto.randomBytes(32);
      const publicKey = crypto.ed25519.getPublicKey(secretKey);
      return {
        secretKey,
        publicKey,
        address: addressOf(crypto, publicKey),
        gateway: i % gateways.length,
        nonce: 0,
        pausedUntil: 0,
        resyncing: false,
      };
    });
    const start = (await gateway.account(funder.address)).nonce;
    const txs = this.senders.map((s, i) =>
      this.sign(funder, start + i, {
        kind: 'transfer',
        to: s.address,
        amount: this.opts.fundAmount,
        memo: new Uint8Array(),
      }),
    );
    const results = await gateway.submitBatch(txs.map((t) => t.bytes));
    const refused = results.find((r) => 'error' in r);
    if (refused && 'error' in refused) {
      throw new IosnetError(
        'LOAD_FUNDING_REFUSED',
        `funding refused: ${refused.error.code}: ${refused.error.message}`,
      );
    }
    // Same sender, consecutive nonces: the last one final means all are.
    const last = txs[txs.length - 1]!.id;
    const deadline = this.now() + this.opts.fundTimeoutMs;
    while ((await gateway.tx(last)).status !== 'grade2') {
      if (this.now() > deadline)
        throw new IosnetError('LOAD_FUNDING_TIMEOUT', 'funding did not become final');
      await sleep(100);
    }
    this.stats.fundedAt = this.now();
  }

  start(): void {
    this.startedAt = this.now();
    this.generated = 0;
    const tick = () => {
      this.tick();
      this.timer = setTimeout(tick, this.opts.tickMs);
    };
    this.timer = setTimeout(tick, this.opts.tickMs);
  }

  /** Stops sending and waits for the requests in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.pending]);
  }

  snapshot(): LoadStats {
    return { accounts: this.senders.length, ...this.stats, refused: { ...this.stats.refused } };
  }

  private tick(): void {
    const now = this.now();
    // Due by now at the target rate; after a stall, catch up by at most half a second's worth.
    const due = Math.floor(((now - this.startedAt) * this.opts.tps) / 1000);
    const count = Math.min(due - this.generated, Math.ceil(this.opts.tps / 2));
    if (count <= 0) return;
    this.generated = Math.max(this.generated + count, due - Math.ceil(this.opts.tps / 2));
    const batches = this.deps.gateways.map(() => [] as { sender: Sender; bytes: Uint8Array }[]);
    for (let made = 0, tried = 0; made < count && tried < count + this.senders.length; tried++) {
      const sender = this.senders[this.next++ % this.senders.length]!;
      if (
        sender.pausedUntil > now ||
        sender.resyncing ||
        this.inFlight[sender.gateway]! >= this.opts.maxInFlight
      )
        continue;
      const to = this.senders[Math.floor(Math.random() * this.senders.length)]!.address;
      const amount = 1n + BigInt(Math.floor(Math.random() * Number(this.opts.maxAmount)));
      const { bytes } = this.sign(sender, sender.nonce++, {
        kind: 'transfer',
        to,
        amount,
        memo: new Uint8Array(),
      });
      batches[sender.gateway]!.push({ sender, bytes });
      made++;
    }
    batches.forEach((batch, g) => {
      if (batch.length > 0) this.track(this.send(g, batch));
    });
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    p.finally(() => this.pending.delete(p));
  }

  private async send(g: number, batch: readonly { sender: Sender; bytes: Uint8Array }[]): Promise<void> {
    this.inFlight[g]!++;
    this.stats.sent += batch.length;
    try {
      const results = await this.deps.gateways[g]!.submitBatch(batch.map((b) => b.bytes));
      results.forEach((r, i) => {
        if ('error' in r) {
          this.stats.refused[r.error.code] = (this.stats.refused[r.error.code] ?? 0) + 1;
          this.pause(batch[i]!.sender);
        } else this.stats.admitted++;
      });
    } catch {
      // Some of them may have been admitted: every sender of the batch re-reads its nonce.
      this.stats.transportErrors++;
      for (const b of batch) this.pause(b.sender);
    } finally {
      this.inFlight[g]!--;
    }
  }

  private pause(sender: Sender): void {
    if (sender.resyncing) return;
    sender.resyncing = true;
    sender.pausedUntil = this.now() + this.opts.pauseMs;
    this.track(
      (async () => {
        await sleep(this.opts.pauseMs);
        try {
          sender.nonce = (await this.deps.gateways[sender.gateway]!.account(sender.address)).nonce;
        } catch {
          // Gateway unreachable: try again after the next pause.
          sender.pausedUntil = this.now() + this.opts.pauseMs;
        } finally {
          sender.resyncing = false;
        }
      })(),
    );
  }
}
