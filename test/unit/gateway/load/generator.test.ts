/**
 * LoadGenerator against fake gateways: funding from consecutive funder nonces, transfers at the target
 * rate with consecutive nonces per account, each account pinned to one gateway, and a nonce re-read after
 * a refusal.
 */
import { describe, expect, test } from 'vitest';
import { toHex } from '../../../../core/bytes.js';
import { CborReader, readCborValue } from '../../../../core/cbor.js';
import { addressOf } from '../../../../core/identity.js';
import { decodeTx, type Transaction } from '../../../../core/tx.js';
import type { GatewayClient, SubmitResult } from '../../../../gateway/api/client.js';
import { createNativeCrypto } from '../../../../gateway/crypto/native.js';
import { defaultLoadOptions, LoadGenerator } from '../../../../gateway/load/generator.js';

const crypto = createNativeCrypto();

function splitBatch(txs: readonly Uint8Array[]): Transaction[] {
  return txs.map((b) => {
    readCborValue(new CborReader(b));
    return decodeTx(b);
  });
}

class FakeGateway {
  readonly received: Transaction[] = [];
  nonces = new Map<string, number>();
  refuseNext = 0;
  async account(address: Uint8Array) {
    return {
      height: 1,
      exists: true,
      balance: 0n,
      nonce: this.nonces.get(toHex(address)) ?? 0,
      staked: 0n,
      unbonding: 0n,
      locked: 0n,
    };
  }
  async submitBatch(txs: readonly Uint8Array[]): Promise<SubmitResult[]> {
    return splitBatch(txs).map((tx) => {
      if (this.refuseNext > 0) {
        this.refuseNext--;
        return { error: { code: 'MEMPOOL_FULL', message: 'full' } };
      }
      this.received.push(tx);
      return { id: '00', status: 'pending' as const };
    });
  }
  async tx() {
    return { id: '00', status: 'grade2' as const };
  }
}

const funderSecret = new Uint8Array(32).fill(3);
const funderPublic = crypto.ed25519.getPublicKey(funderSecret);
const funder = { secretKey: funderSecret, publicKey: funderPublic, address: addressOf(crypto, funderPublic) };

describe('LoadGenerator', () => {
  test('funds, then sends at the rate with consecutive nonces per account, pinned to one gateway', async () => {
    const gateways = [new FakeGateway(), new FakeGateway()];
    gateways[0]!.nonces.set(toHex(funder.address), 7);
    const load = new LoadGenerator(
      { ...defaultLoadOptions(200), accounts: 8, tickMs: 10 },
      { crypto, chainId: 'test', funder, gateways: gateways as unknown as GatewayClient[] },
    );
    await load.fund();
    const funding = gateways[0]!.received.splice(0);
    expect(funding.map((t) => t.body.nonce)).toEqual([7, 8, 9, 10, 11, 12, 13, 14]);
    load.start();
    await new Promise((r) => setTimeout(r, 500));
    await load.stop();
    const stats = load.snapshot();
    // ~200 tx/s for 0.5 s, give or take timer jitter.
    expect(stats.sent).toBeGreaterThan(60);
    expect(stats.sent).toBeLessThan(140);
    expect(stats.admitted).toBe(stats.sent);
    const bySender = new Map<string, { gateway: number; nonces: number[] }>();
    gateways.forEach((g, gi) => {
      for (const tx of g.received) {
        const k = toHex(tx.body.sender);
        const e = bySender.get(k) ?? { gateway: gi, nonces: [] };
        expect(e.gateway).toBe(gi);
        e.nonces.push(tx.body.nonce);
        bySender.set(k, e);
      }
    });
    expect(bySender.size).toBe(8);
    for (const { nonces } of bySender.values()) expect(nonces).toEqual(nonces.map((_, i) => i));
  });

  test('after a refusal the account pauses, re-reads its nonce and goes on from there', async () => {
    const g = new FakeGateway();
    const load = new LoadGenerator(
      { ...defaultLoadOptions(100), accounts: 1, tickMs: 10, pauseMs: 50 },
      { crypto, chainId: 'test', funder, gateways: [g as unknown as GatewayClient] },
    );
    await load.fund();
    g.received.length = 0;
    g.refuseNext = 3;
    load.start();
    await new Promise((r) => setTimeout(r, 400));
    await load.stop();
    expect(load.snapshot().refused).toEqual({ MEMPOOL_FULL: 3 });
    // The gateway's account nonce stayed 0: after the pause the account starts again at 0.
    expect(g.received[0]!.body.nonce).toBe(0);
  });
});
