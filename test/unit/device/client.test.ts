/**
 * device/client.ts against a fake gateway backed by real core objects (test/helpers/device-gateway.ts):
 * sync, verified queries, transactions to grade 1 and 2, resume after a dropped link, and the attacks of
 * issue 4 that the device itself must catch, each ending in a typed error with the head unchanged.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { equalBytes } from '../../../core/bytes.js';
import type { DeviceResponse } from '../../../core/device-protocol.js';
import { encodeAccount } from '../../../core/state.js';
import { signTx } from '../../../core/tx.js';
import { createLightClient, type LightClient, type LightClientEvent } from '../../../device/client.js';
import { DeviceError } from '../../../device/errors.js';
import { createMemoryKeyStore } from '../../../device/keystore.js';
import { makeStateBlock, signCollective } from '../../helpers/chain.js';
import { testCrypto as crypto } from '../../helpers/crypto.js';
import {
  buildDeviceScenario,
  DEVICE_START_BALANCE,
  type DeviceScenario,
  makeCommittees,
} from '../../helpers/device-gateway.js';
import { ed25519Key } from '../../helpers/keys.js';

const keyStore = createMemoryKeyStore({
  crypto,
  boardId: 'rpi4',
  hardwareSerial: 'SN-0001',
  seed: ed25519Key('device/light-client').secretKey,
});
const owner = ed25519Key('owner/light-client');
const device = {
  address: keyStore.address,
  identityHash: keyStore.identityHash,
  publicKey: keyStore.publicKey,
  boardId: keyStore.boardId,
  hardwareSerial: keyStore.hardwareSerial,
  owner: owner.address,
};

let clients: LightClient[] = [];
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

function setup(opts: { requestTimeoutMs?: number; maxPendingRequests?: number } = {}) {
  const s: DeviceScenario = buildDeviceScenario(device);
  const events: LightClientEvent[] = [];
  const client = createLightClient({
    anchor: s.anchor,
    transport: s.transport,
    keyStore,
    crypto,
    pollIntervalMs: 20,
    requestTimeoutMs: opts.requestTimeoutMs ?? 5_000,
    ...(opts.maxPendingRequests ? { maxPendingRequests: opts.maxPendingRequests } : {}),
    onEvent: (e) => events.push(e),
  });
  clients.push(client);
  return { ...s, client, events };
}

async function rejects(p: Promise<unknown>, code: string): Promise<DeviceError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as DeviceError).code).toBe(code);
    return err as DeviceError;
  }
  throw new Error(`expected ${code}`);
}

/** Rewrites one kind of answer. */
function tamperKind<K extends DeviceResponse['kind']>(
  s: DeviceScenario,
  kind: K,
  f: (r: Extract<DeviceResponse, { kind: K }>) => DeviceResponse,
): void {
  s.gateway.tamper = (_req, honest) =>
    honest.kind === kind ? f(honest as Extract<DeviceResponse, { kind: K }>) : honest;
}

describe('light client: sync and verified queries', () => {
  it('syncs from the genesis anchor across two committee changes', async () => {
    const s = setup();
    await s.client.start();
    const head = s.client.sync.head;
    expect(head.stateBlock!.index).toBe(4);
    expect(equalBytes(head.committee.hash, s.committees[2]!.hash)).toBe(true);
    expect(
      s.events.filter((e) => e.type === 'stateBlock').map((e) => (e as { index: number }).index),
    ).toEqual([1, 3, 4]);
  });

  it('proves its account and its registration', async () => {
    const s = setup();
    await s.client.start();
    const { account, stateBlockIndex } = await s.client.account();
    expect(account.balance).toBe(DEVICE_START_BALANCE);
    expect(stateBlockIndex).toBe(4);
    const reg = await s.client.requireRegistration();
    expect(equalBytes(reg.owner, owner.address)).toBe(true);
  });

  it('learns it is not registered from a proof of absence', async () => {
    const s = setup();
    const other = createMemoryKeyStore({
      crypto,
      boardId: 'rpi4',
      hardwareSerial: 'SN-other',
      seed: ed25519Key('device/other').secretKey,
    });
    const c = createLightClient({ anchor: s.anchor, transport: s.transport, keyStore: other, crypto });
    clients.push(c);
    await c.start();
    expect(await c.registration()).toBeNull();
    await rejects(c.requireRegistration(), 'DEVICE_NOT_REGISTERED');
    expect((await c.account()).account.balance).toBe(0n);
  });

  it('follows announcements, and resumes after a dropped link without re-syncing from the anchor', async () => {
    const s = setup();
    await s.client.start();
    s.chain.seal();
    s.transport.announce();
    await new Promise((r) => setTimeout(r, 50));
    expect(s.client.sync.head.stateBlock!.index).toBe(5);
    s.transport.drop();
    s.chain.seal();
    s.chain.seal();
    const asked: number[] = [];
    s.gateway.tamper = (req, honest) => {
      if (req.kind === 'getStateBlocks') asked.push(req.fromIndex);
      return honest;
    };
    s.transport.restore();
    await new Promise((r) => setTimeout(r, 100));
    expect(asked).toEqual([6]);
    expect(s.client.sync.head.stateBlock!.index).toBe(7);
    expect(s.client.stats.resyncs).toBe(1);
  });
});

describe('light client: attacks the device must catch', () => {
  it('a forged state block in a sync answer: DEVICE_STATE_BLOCK_FORGED, the head stays at the last verified', async () => {
    const s = setup();
    const attacker = makeCommittees(1, 4, 'evil')[0]!;
    tamperKind(s, 'stateBlocks', (r) => ({
      ...r,
      items: r.items.map((it) =>
        it.stateBlock.index === 4
          ? {
              ...it,
              stateBlock: {
                ...it.stateBlock,
                signature: signCollective(attacker, new Uint8Array(32), [0, 1, 2, 3]),
              },
            }
          : it,
      ),
    }));
    await rejects(s.client.start(), 'DEVICE_STATE_BLOCK_FORGED');
    // The two transitions before it verified and stay; the forged block did not move the head.
    expect(s.client.sync.head.stateBlock!.index).toBe(3);
  });

  it('an under-signed state block: DEVICE_STATE_BLOCK_UNDERSIGNED', async () => {
    const s = setup();
    const c1 = s.committees[0]!;
    const honest0 = s.chain.sealed[0]!.stateBlock;
    const under = makeStateBlock(c1, { ...honest0 }, [0]).stateBlock;
    tamperKind(s, 'stateBlocks', (r) => ({ ...r, items: [{ stateBlock: under, nextCommittee: null }] }));
    await rejects(s.client.start(), 'DEVICE_STATE_BLOCK_UNDERSIGNED');
    expect(s.client.sync.head.stateBlock).toBeNull();
  });

  it('a committee transition not signed by the previous committee: DEVICE_TRANSITION_UNSIGNED', async () => {
    const s = setup();
    const [c1, c2] = s.committees as [(typeof s.committees)[0] & object, (typeof s.committees)[0] & object];
    const fake = makeStateBlock(c2, { ...s.chain.sealed[1]!.stateBlock, committee: c1.hash }).stateBlock;
    tamperKind(s, 'stateBlocks', (r) => ({
      ...r,
      items: r.items.map((it) =>
        it.stateBlock.index === 1 ? { stateBlock: fake, nextCommittee: c2.committee } : it,
      ),
    }));
    await rejects(s.client.start(), 'DEVICE_TRANSITION_UNSIGNED');
    expect(s.client.sync.head.stateBlock).toBeNull();
  });

  it('a gateway lying about the balance (tampered record in the proof): DEVICE_PROOF_INVALID', async () => {
    const s = setup();
    await s.client.start();
    tamperKind(s, 'recordProof', (r) => ({
      ...r,
      proof: {
        ...r.proof,
        record: encodeAccount({
          balance: 10n ** 15n,
          nonce: 0,
          staked: 0n,
          unbonding: 0n,
          unbondingEpoch: 0,
          locked: 0n,
        }),
      },
    }));
    await rejects(s.client.account(), 'DEVICE_PROOF_INVALID');
    // Claiming the account does not exist is a lie too (the proof is of presence).
    tamperKind(s, 'recordProof', (r) => ({ ...r, proof: { ...r.proof, record: null } }));
    await rejects(s.client.account(), 'DEVICE_PROOF_INVALID');
    // Another account's (valid) proof instead of ours.
    const other = s.chain.proofAt(4, 'device', device.identityHash);
    tamperKind(s, 'recordProof', (r) => ({ ...r, proof: other.proof }));
    await rejects(s.client.account(), 'DEVICE_PROOF_INVALID');
    expect(s.client.sync.head.stateBlock!.index).toBe(4);
  });

  it('a stale account proof (under an older state block): DEVICE_PROOF_STALE', async () => {
    const s = setup();
    await s.client.start();
    s.chain.setAccount(device.address, {
      balance: 1n,
      nonce: 9,
      staked: 0n,
      unbonding: 0n,
      unbondingEpoch: 0,
      locked: 0n,
    });
    s.chain.seal();
    await s.client.syncNow();
    expect((await s.client.account()).account.balance).toBe(1n);
    // The gateway serves the richer, older state: valid proof, old root.
    s.gateway.tamper = (req, honest) => {
      if (req.kind !== 'proveRecord') return honest;
      const old = s.chain.proofAt(4, req.namespace, req.id);
      return { kind: 'recordProof', requestId: req.requestId, ...old };
    };
    const err = await rejects(s.client.account(), 'DEVICE_PROOF_STALE');
    expect(err.data).toMatchObject({ proofIndex: 4, headIndex: 5 });
  });

  it('a proof under a forged later state block: DEVICE_STATE_BLOCK_FORGED', async () => {
    const s = setup();
    await s.client.start();
    const c3 = s.committees[2]!;
    const latest = s.chain.latest;
    const forged = {
      ...makeStateBlock(c3, {
        ...latest.stateBlock,
        index: 5,
        previous: latest.id,
        fromHeight: 80,
        toHeight: 95,
      }).stateBlock,
    };
    const bad = {
      ...forged,
      signature: { ...forged.signature, signature: latest.stateBlock.signature.signature },
    };
    tamperKind(s, 'recordProof', (r) => ({ ...r, stateBlock: bad }));
    await rejects(s.client.account(), 'DEVICE_STATE_BLOCK_FORGED');
    expect(s.client.sync.head.stateBlock!.index).toBe(4);
  });

  it('a gateway hiding an included transaction: DEVICE_TX_HIDDEN', async () => {
    const s = setup();
    await s.client.start();
    const to = ed25519Key('bob').address;
    const sent = await s.client.transfer(to, 1000n);
    // The chain includes it (the nonce moves), but the gateway keeps saying "pending" with no proof.
    s.chain.include(s.gateway.submitted, 2);
    s.chain.setAccount(device.address, {
      balance: DEVICE_START_BALANCE - 2000n,
      nonce: 1,
      staked: 0n,
      unbonding: 0n,
      unbondingEpoch: 0,
      locked: 0n,
    });
    s.chain.seal();
    tamperKind(s, 'txStatus', (r) => ({ ...r, status: 'pending', proof: null }));
    await rejects(s.client.waitForGrade(sent.id, 2, { timeoutMs: 2_000 }), 'DEVICE_TX_HIDDEN');
  });

  it('a forged inclusion proof: DEVICE_PROOF_INVALID', async () => {
    const s = setup();
    await s.client.start();
    const sent = await s.client.transfer(ed25519Key('bob').address, 5n);
    const decoy = signTx(crypto, { ...s.gateway.submitted[0]!.body, nonce: 77 }, [owner.secretKey]).tx;
    s.chain.include([decoy], 2);
    const decoyProof = s.chain.inclusion(signTx(crypto, decoy.body, [owner.secretKey]).id)!;
    tamperKind(s, 'txStatus', (r) => ({ ...r, status: 'grade2', proof: decoyProof }));
    await rejects(s.client.txStatus(sent.id), 'DEVICE_PROOF_INVALID');
  });

  it('a forged announcement is reported and changes nothing', async () => {
    const s = setup();
    await s.client.start();
    const c3 = s.committees[2]!;
    const latest = s.chain.latest;
    const next = makeStateBlock(
      c3,
      { ...latest.stateBlock, index: 5, previous: latest.id, fromHeight: 80, toHeight: 95 },
      [0],
    );
    const { encodeStateBlockAnnouncement } = await import('../../../core/device-protocol.js');
    s.transport.deliver(
      'announcement',
      encodeStateBlockAnnouncement({ stateBlock: next.stateBlock, id: next.id, nextCommittee: null }),
    );
    s.transport.deliver('announcement', new Uint8Array([0x83, 1, 2]));
    await new Promise((r) => setTimeout(r, 20));
    const rejected = s.events
      .filter((e) => e.type === 'rejected')
      .map((e) => (e as { error: DeviceError }).error.code);
    expect(rejected).toEqual(['DEVICE_STATE_BLOCK_UNDERSIGNED', 'DEVICE_MALFORMED_RESPONSE']);
    expect(s.client.sync.head.stateBlock!.index).toBe(4);
  });

  it('a malformed answer fails its request with DEVICE_MALFORMED_RESPONSE', async () => {
    const s = setup();
    await s.client.start();
    s.gateway.tamper = (req, honest) => {
      if (req.kind !== 'proveRecord') return honest;
      // Answer the request id with the wrong kind.
      return { kind: 'txAccepted', requestId: req.requestId, txId: new Uint8Array(32) };
    };
    await rejects(s.client.account(), 'DEVICE_MALFORMED_RESPONSE');
  });
});

describe('light client: transactions and requests', () => {
  it('submits a transfer, a service payment and a review, and tracks them to grade 1 and 2', async () => {
    const s = setup();
    await s.client.start();
    const provider = ed25519Key('provider').address;
    const serviceId = crypto.sha256(new Uint8Array([1]));
    const t1 = await s.client.transfer(provider, 10n);
    const t2 = await s.client.payService(provider, serviceId, 20n);
    const t3 = await s.client.review(serviceId, 5, crypto.sha256(new Uint8Array([2])));
    expect([t1.nonce, t2.nonce, t3.nonce]).toEqual([0, 1, 2]);
    expect(s.gateway.submitted.map((t) => t.body.payload.kind)).toEqual(['transfer', 'transfer', 'review']);
    expect((await s.client.txStatus(t1.id)).grade).toBe(0);
    setTimeout(() => s.chain.include(s.gateway.submitted.slice(0, 2), 1), 30);
    expect((await s.client.waitForGrade(t1.id, 1, { timeoutMs: 2_000 })).grade).toBe(1);
    s.chain.include(s.gateway.submitted.slice(2), 2);
    const final = await s.client.waitForGrade(t3.id, 2, { timeoutMs: 2_000 });
    expect(final).toMatchObject({ grade: 2, status: 'grade2' });
  });

  it('gives concurrent submissions distinct nonces, and an expired one frees its nonce', async () => {
    const s = buildDeviceScenario(device);
    let now = 1_000_000;
    const client = createLightClient({
      anchor: s.anchor,
      transport: s.transport,
      keyStore,
      crypto,
      now: () => now,
      txTtlMs: 1_000,
      pollIntervalMs: 10,
    });
    clients.push(client);
    await client.start();
    const to = ed25519Key('carol').address;
    const sent = await Promise.all([
      client.transfer(to, 1n),
      client.transfer(to, 2n),
      client.transfer(to, 3n),
    ]);
    expect(sent.map((t) => t.nonce)).toEqual([0, 1, 2]);
    now += 5_000;
    expect(await client.txStatus(sent[0]!.id)).toEqual({ grade: 0, status: 'expired' });
    await rejects(client.waitForGrade(sent[1]!.id, 1, { timeoutMs: 1_000 }), 'DEVICE_TX_EXPIRED');
    expect((await client.transfer(to, 4n)).nonce).toBe(0);
  });

  it('builds a registration the owner co-signs', async () => {
    const s = setup();
    await s.client.start();
    const req = s.client.registrationRequest({ publicKey: owner.publicKey, nonce: 0 });
    const ownerSig = crypto.ed25519.sign(req.txId, owner.secretKey);
    const id = await s.client.submitSigned({ body: req.body, signatures: [ownerSig, req.deviceSignature] });
    expect(equalBytes(id, req.txId)).toBe(true);
    expect(s.gateway.submitted[0]!.body.payload.kind).toBe('registerDevice');
  });

  it('times out an unanswered request and bounds requests in flight', async () => {
    const s = setup({ requestTimeoutMs: 100, maxPendingRequests: 2 });
    await s.client.start();
    s.gateway.tamper = () => 'drop';
    const a = s.client.account();
    const b = s.client.registration();
    await rejects(s.client.txStatus(new Uint8Array(32)), 'DEVICE_TOO_MANY_PENDING');
    await rejects(a, 'DEVICE_TIMEOUT');
    await rejects(b, 'DEVICE_TIMEOUT');
  });

  it('fails requests in flight when the link drops', async () => {
    const s = setup();
    await s.client.start();
    s.gateway.tamper = () => 'drop';
    const a = s.client.account();
    await new Promise((r) => setTimeout(r, 5));
    s.transport.drop();
    await rejects(a, 'DEVICE_NOT_CONNECTED');
  });
});
