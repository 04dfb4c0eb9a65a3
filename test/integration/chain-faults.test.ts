/**
 * Issue 3's scenarios on real gateway processes over TCP on loopback (docs/consensus.md):
 *   A. finality with 4 gateways, one of them an equivocating proposer: evidence on chain, slashing, no two
 *      final blocks at one height; then a kill -9 under load and a restart: it catches up, nothing final lost
 *   B. a proposer crash: view changes and progress; a late validator bootstraps from a state block; a peer
 *      sending malformed frames and objects is dropped while the node keeps finalizing
 *   C. an invalid-block proposer (forged signature) is slashed; a vote-withholding validator only loses
 *      reputation
 * Total supply is checked on every gateway after every scenario.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.js';
import { encodeTx, signTx, txIdOf } from '../../core/tx.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';
import { expectOneChain, expectSupply, load } from '../helpers/chain-checks.js';
import { crypto, TestNet } from '../helpers/gateways.js';

const SCENARIO_MS = 240_000;

describe('B: proposer crash, late bootstrap, malformed peers', () => {
  let net: TestNet;
  beforeAll(async () => {
    net = await TestNet.create(4);
  });
  afterAll(async () => net?.close());

  it(
    'a crashed league member costs view changes, not progress',
    async () => {
      net.startAll();
      await net.waitHeight(1, 8);
      // gateway-3 holds the largest stake (16 of 52 M IOST); the other three keep more than 2/3.
      await net.crash(3);
      const h = await net.height(1);
      await net.waitHeight(1, h + 10, 90_000);
      expect(await net.metric(1, 'iosnet_view_changes_total')).toBeGreaterThan(0);
      net.start(3);
      await net.waitHeight(3, h + 10, 90_000);
    },
    SCENARIO_MS,
  );

  it(
    'a validator whose disk was lost bootstraps from the latest state block, without history',
    async () => {
      await net.stop(0);
      net.wipe(0);
      // Past a few state blocks, so that early bodies are pruned everywhere.
      await net.waitHeight(1, 40, 90_000);
      net.configure(0, { bootstrap: true });
      net.start(0);
      const target = await net.height(1);
      await net.waitHeight(0, target, 90_000);
      expect(net.log(0)).toMatch(/bootstrap: done/);
      // It never saw block 1: history was not replayed.
      expect(await net.blockId(0, 1)).toBeNull();
      await expectOneChain(net, [0, 1, 2, 3], target);
      await expectSupply(net, [0, 1, 2, 3]);
    },
    SCENARIO_MS,
  );

  it(
    'peers sending malformed frames, objects and transactions are dropped; the node keeps finalizing',
    async () => {
      const { RawPeer } = await import('../unit/gateway/network/raw-peer.js');
      const { encodePeerMessage } = await import('../../gateway/network/messages.js');
      const { genesisHash } = await import('../../core/genesis.js');
      const port = net.files.nodes[1]!.p2pPort;
      const identity = () => {
        const nodeSecretKey = crypto.randomBytes(32);
        return {
          crypto,
          nodeSecretKey,
          nodePublicKey: crypto.ed25519.getPublicKey(nodeSecretKey),
          chainId: net.files.genesis.chainId,
          genesisHash: genesisHash(crypto, net.files.genesis),
        };
      };
      const closedWithin = (p: Promise<void>, ms: number) =>
        Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
      const before = await net.height(1);
      // 1. Garbage where a PeerMessage should be, after a valid handshake: the network drops the peer.
      const a = await RawPeer.connect(port);
      await a.handshake(identity());
      a.sendPlaintext(Uint8Array.of(0xff, 0x00, 0x13));
      expect(await closedWithin(a.closed, 5000)).toBe(true);
      // 2. A well-formed message carrying a malformed proposal: consensus penalizes the peer.
      const b = await RawPeer.connect(port);
      await b.handshake(identity());
      b.sendPlaintext(encodePeerMessage({ type: 'proposal', bytes: Uint8Array.of(0x84, 0x01, 0x13, 0x00) }));
      expect(await closedWithin(b.closed, 5000)).toBe(true);
      // 3. Malformed transactions are refused one by one; a forged one is found out.
      const c = await RawPeer.connect(port);
      await c.handshake(identity());
      // A funded sender's transfer with its signature flipped: if admitted, it would execute.
      const funder = readKeyFile(net.files.bucketKeys.privateSale, crypto).key;
      const nonce = (await net.clients[1]!.account(funder.address)).nonce;
      const { tx } = signTx(
        crypto,
        {
          chainId: net.files.genesis.chainId,
          sender: funder.ed25519.publicKey,
          nonce,
          expiry: Date.now() + 600_000,
          fee: 0n,
          payload: { kind: 'transfer', to: net.owner(2), amount: 5n, memo: new Uint8Array() },
        },
        [funder.ed25519.secretKey],
      );
      const forged = { ...tx, signatures: [tx.signatures[0]!.map((b, i) => (i === 0 ? b ^ 1 : b))] };
      c.sendPlaintext(
        encodePeerMessage({
          type: 'txs',
          txs: [Uint8Array.of(1, 2, 3), new Uint8Array(200).fill(0x84), encodeTx(forged)],
        }),
      );
      await net.waitHeight(1, before + 5);
      // Relayed transactions are admitted unchecked (the proposer checks them, validators sample): the forged
      // one never executes ...
      expect(['unknown', 'pending']).toContain(
        (await net.clients[1]!.tx(toHex(txIdOf(crypto, forged)))).status,
      );
      expect((await net.clients[1]!.account(funder.address)).nonce).toBe(nonce);
      // ... nor keeps out the genuine transaction (same body, so the same id) a client sends to that gateway,
      // and the peer that relayed the forgery is dropped once it is found out.
      const id = toHex(txIdOf(crypto, tx));
      expect((await net.clients[1]!.submitTx(encodeTx(tx))).id).toBe(id);
      expect(await closedWithin(c.closed, 5000)).toBe(true);
      const until = Date.now() + 60_000;
      while ((await net.clients[1]!.tx(id)).status !== 'grade2') {
        expect(Date.now()).toBeLessThan(until);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect((await net.clients[1]!.account(funder.address)).nonce).toBe(nonce + 1);
      c.destroy();
      await expectSupply(net, [1]);
    },
    SCENARIO_MS,
  );
});

describe('C: an invalid-block proposer and a vote withholder', () => {
  let net: TestNet;
  beforeAll(async () => {
    net = await TestNet.create(4);
  });
  afterAll(async () => net?.close());

  it(
    'the invalid-block proposer is slashed; the withholder is not, but its behaviour score falls',
    async () => {
      net.start(0, { byzantine: 'withhold-votes' });
      net.start(1);
      net.start(2, { byzantine: 'invalid-block' });
      net.start(3);
      await net.waitHeight(1, 2);
      await net.waitHeight(3, 2);
      const gen = load(net, 40, [1, 3]);
      await gen.fund();
      gen.start();
      const cheat = net.owner(2);
      await net.waitFor(
        'the invalid-block proposer slashed',
        () => net.staked(1, cheat),
        (s) => s === 0n,
        150_000,
      );
      await gen.stop();
      const status = await net.clients[1]!.status();
      const withholder = status.committee.find((m) => m.owner === toHex(net.owner(0)));
      expect(withholder?.slashed).toBe(false);
      expect(withholder?.missed).toBeGreaterThan(0);
      expect(await net.staked(1, net.owner(0))).toBeGreaterThan(0n);
      const h = await net.height(1);
      await expectOneChain(net, [1, 3], h);
      await expectSupply(net, [1, 3]);
    },
    SCENARIO_MS,
  );
});
