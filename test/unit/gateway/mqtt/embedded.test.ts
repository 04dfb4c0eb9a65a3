/**
 * The gateway's MQTT bridge with its embedded aedes broker (docs/protocol.md §16), against a real
 * one-validator gateway and real mqtt.js clients on a random port: a registered device is served proofs it
 * can verify with core/verify.ts; every attack is refused with a typed reason, counted, and changes nothing.
 */
import { connect as tcpConnect } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../../../core/bytes.js';
import { prepareCommittee } from '../../../../core/committee.js';
import {
  announcementTopic,
  type DeviceResponse,
  decodeStateBlockAnnouncement,
  encodeDeviceRequest,
} from '../../../../core/device-protocol.js';
import { addressOf } from '../../../../core/identity.js';
import { decodeDeviceRecord } from '../../../../core/state.js';
import { encodeTx, signTx } from '../../../../core/tx.js';
import {
  verifyAccountProof,
  verifyStateBlock,
  verifyStateProof,
  verifyTxInclusion,
} from '../../../../core/verify.js';
import {
  connectDevice,
  crypto,
  type MqttFixture,
  makeDevice,
  ResponseInbox,
  registerDevices,
  startMqttFixture,
  type TestDevice,
  tokenFor,
  waitFor,
} from './fixture.js';

let f: MqttFixture;
let url: string;
let alice: TestDevice;
let bob: TestDevice;
let carol: TestDevice;
let mallory: TestDevice; // never registered
const clients: MqttClient[] = [];

async function refusals(reason: string): Promise<number> {
  return f.node.metrics.counterValue('iosnet_mqtt_refusals_total', { reason });
}

async function connect(d: TestDevice, password = tokenFor(f, d), clientId = d.hex): Promise<MqttClient> {
  const c = await connectDevice(url, d, password, clientId);
  clients.push(c);
  return c;
}

/** Connection refused with CONNACK "not authorized" (code 5). */
async function expectRefused(d: TestDevice, password: string): Promise<void> {
  const err = await connect(d, password).then(
    () => undefined,
    (e: unknown) => e as { code?: number },
  );
  expect(err, 'connection should be refused').toBeDefined();
  expect(err!.code).toBe(5);
}

function committeeFor(hash: Uint8Array) {
  const c = f.node.store.getCommittee(hash);
  if (!c) throw new Error('committee not stored');
  return prepareCommittee(crypto, c);
}

beforeAll(async () => {
  f = await startMqttFixture({ listen: '127.0.0.1:0' }, { requestsPerSecond: 20, requestBurst: 10 });
  url = `mqtt://127.0.0.1:${f.node.ports.mqtt}`;
  alice = makeDevice(f, 'SN-alice');
  bob = makeDevice(f, 'SN-bob');
  carol = makeDevice(f, 'SN-carol');
  mallory = makeDevice(f, 'SN-mallory');
  await registerDevices(f, [alice, bob, carol]);
}, 30_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  await f?.close();
});

describe('a registered device', () => {
  let client: MqttClient;
  let inbox: ResponseInbox;
  let rid = 1;
  const ask = (m: Parameters<typeof encodeDeviceRequest>[0]): Promise<DeviceResponse> => {
    client.publish(alice.topics.request, Buffer.from(encodeDeviceRequest(m)), { qos: 1 });
    return inbox.next(m.requestId);
  };

  beforeAll(async () => {
    client = await connect(alice);
    inbox = new ResponseInbox(client, alice.topics.response);
    firstAnnouncement = new Promise((resolve) =>
      client.on('message', (t, p, packet) => {
        if (t === announcementTopic(f.chainId, 0)) resolve({ payload: p, retained: packet.retain });
      }),
    );
    await client.subscribeAsync([alice.topics.response, alice.topics.announcements], { qos: 1 });
  });
  let firstAnnouncement: Promise<{ payload: Buffer; retained: boolean }>;

  it('gets the latest state block at once (retained), and it verifies', async () => {
    const { payload, retained } = await firstAnnouncement;
    expect(retained).toBe(true);
    const a = decodeStateBlockAnnouncement(new Uint8Array(payload));
    expect(verifyStateBlock(crypto, a.stateBlock, committeeFor(a.stateBlock.committee))).toEqual(a.id);
  });

  it('gets each new state block announced once, in order', async () => {
    const indexes: number[] = [];
    const listener = (t: string, p: Buffer) => {
      if (t === alice.topics.announcements)
        indexes.push(decodeStateBlockAnnouncement(new Uint8Array(p)).stateBlock.index);
    };
    client.on('message', listener);
    // State blocks come every 8 blocks of 100 ms: wait for three.
    await waitFor(() => (indexes.length >= 3 ? true : undefined), 10_000);
    client.off('message', listener);
    for (let i = 1; i < indexes.length; i++) expect(indexes[i]).toBe(indexes[i - 1]! + 1);
  }, 15_000);

  it('gets a proof of its owner account that verifies under a signed state block', async () => {
    const r = await ask({
      kind: 'proveRecord',
      requestId: rid++,
      namespace: 'account',
      id: f.funder.address,
    });
    if (r.kind !== 'recordProof') throw new Error(`got ${r.kind}`);
    verifyStateBlock(crypto, r.stateBlock, committeeFor(r.stateBlock.committee));
    const account = verifyAccountProof(crypto, r.stateBlock.stateRoot, f.funder.address, r.proof);
    // The three registrations are in the proven state: the owner's nonce counts them.
    expect(account!.nonce).toBeGreaterThanOrEqual(3);
    expect(account!.balance).toBeGreaterThan(0n);
  });

  it('proves its own registration (the device record on chain), and absence of another', async () => {
    const r = await ask({ kind: 'proveRecord', requestId: rid++, namespace: 'device', id: alice.id });
    if (r.kind !== 'recordProof') throw new Error(`got ${r.kind}`);
    const record = verifyStateProof(crypto, r.stateBlock.stateRoot, r.proof, {
      namespace: 'device',
      id: alice.id,
    });
    expect(decodeDeviceRecord(record!).devicePublicKey).toEqual(alice.key.ed25519.publicKey);
    const none = await ask({ kind: 'proveRecord', requestId: rid++, namespace: 'device', id: mallory.id });
    if (none.kind !== 'recordProof') throw new Error(`got ${none.kind}`);
    expect(
      verifyStateProof(crypto, none.stateBlock.stateRoot, none.proof, {
        namespace: 'device',
        id: mallory.id,
      }),
    ).toBeNull();
  });

  it('answers repeated proofs from the cache', async () => {
    const before = f.node.store.latestStateBlock()!.index;
    const r1 = await ask({
      kind: 'proveRecord',
      requestId: rid++,
      namespace: 'account',
      id: f.funder.address,
    });
    const r2 = await ask({
      kind: 'proveRecord',
      requestId: rid++,
      namespace: 'account',
      id: f.funder.address,
    });
    if (r1.kind !== 'recordProof' || r2.kind !== 'recordProof') throw new Error('wrong kinds');
    if (r1.stateBlock.index === r2.stateBlock.index && r1.stateBlock.index >= before) {
      expect(r2.proof).toEqual(r1.proof);
    }
  });

  it('syncs state blocks (sparse: changes + latest; dense: consecutive)', async () => {
    const sparse = await ask({
      kind: 'getStateBlocks',
      requestId: rid++,
      fromIndex: 0,
      limit: 64,
      sparse: true,
    });
    if (sparse.kind !== 'stateBlocks') throw new Error(`got ${sparse.kind}`);
    const last = sparse.items.at(-1)!.stateBlock;
    expect(last.index).toBe(sparse.latestIndex);
    verifyStateBlock(crypto, last, committeeFor(last.committee));
    const dense = await ask({
      kind: 'getStateBlocks',
      requestId: rid++,
      fromIndex: 0,
      limit: 3,
      sparse: false,
    });
    if (dense.kind !== 'stateBlocks') throw new Error(`got ${dense.kind}`);
    expect(dense.items.map((i) => i.stateBlock.index)).toEqual([0, 1, 2].slice(0, dense.items.length));
    const ahead = await ask({
      kind: 'getStateBlocks',
      requestId: rid++,
      fromIndex: 1e9,
      limit: 1,
      sparse: true,
    });
    expect(ahead.kind === 'stateBlocks' && ahead.items.length).toBe(0);
  });

  it('submits a transaction and follows it to grade 2 with a proof that verifies', async () => {
    const nonce = f.node.state.getAccount(f.funder.address).nonce;
    const { tx, id } = signTx(
      crypto,
      {
        chainId: f.chainId,
        sender: f.funder.ed25519.publicKey,
        nonce,
        expiry: Date.now() + 60_000,
        fee: 0n,
        payload: {
          kind: 'transfer',
          to: addressOf(crypto, alice.key.ed25519.publicKey),
          amount: 7n,
          memo: utf8('mqtt'),
        },
      },
      [f.funder.ed25519.secretKey],
    );
    const accepted = await ask({ kind: 'submitTx', requestId: rid++, tx: encodeTx(tx) });
    expect(accepted).toMatchObject({ kind: 'txAccepted', txId: id });
    const again = await ask({ kind: 'submitTx', requestId: rid++, tx: encodeTx(tx) });
    expect(again).toMatchObject({ kind: 'error', code: 'txRefused' });
    let final: DeviceResponse | undefined;
    for (let i = 0; i < 100 && !(final?.kind === 'txStatus' && final.status === 'grade2'); i++) {
      // 10 requests per second: under the device's rate limit.
      await new Promise((r) => setTimeout(r, 100));
      final = await ask({ kind: 'getTxStatus', requestId: rid++, txId: id });
    }
    if (final?.kind !== 'txStatus' || final.status !== 'grade2') throw new Error('not final');
    const committee = prepareCommittee(
      crypto,
      f.node.hooks.committee(f.node.state, final.proof!.header.epoch).committee,
    );
    expect(verifyTxInclusion(crypto, committee, id, final.proof!).grade).toBe(2);
    const unknown = await ask({ kind: 'getTxStatus', requestId: rid++, txId: new Uint8Array(32) });
    expect(unknown).toMatchObject({ kind: 'txStatus', status: 'unknown', proof: null });
  }, 20_000);

  it('gets an error response, never a crash, for malformed CBOR on its request topic', async () => {
    const garbage = [
      Buffer.from([0xff, 0x00, 0x13]),
      Buffer.alloc(0),
      Buffer.from([0x84, 0x01, 0x13, 0x18, 0x63, 0x00]), // request id 99 then junk
      Buffer.from(
        encodeDeviceRequest({ kind: 'getTxStatus', requestId: 98, txId: new Uint8Array(32) }).subarray(0, 10),
      ),
      Buffer.concat([
        Buffer.from(encodeDeviceRequest({ kind: 'getTxStatus', requestId: 97, txId: new Uint8Array(32) })),
        Buffer.from([0]),
      ]),
      Buffer.from([0x85, 0x02, 0x13, 0x18, 0x60, 0x00, 0x00]), // version 2
    ];
    const before = await refusals('malformed_request');
    for (const g of garbage) client.publish(alice.topics.request, g, { qos: 1 });
    const e99 = await inbox.next(99);
    expect(e99).toMatchObject({ kind: 'error', code: 'badRequest' });
    expect(await inbox.next(98)).toMatchObject({ kind: 'error', code: 'badRequest' });
    expect(await inbox.next(97)).toMatchObject({ kind: 'error', code: 'badRequest' });
    expect(await inbox.next(96)).toMatchObject({ kind: 'error', code: 'unsupported' });
    await waitFor(async () =>
      (await refusals('malformed_request')) - before >= garbage.length ? true : undefined,
    );
    expect(
      inbox.received.filter((r) => r.requestId === 0 && r.kind === 'error').length,
    ).toBeGreaterThanOrEqual(2);
    // Still served.
    const ok = await ask({ kind: 'proveRecord', requestId: rid++, namespace: 'device', id: alice.id });
    expect(ok.kind).toBe('recordProof');
  });
});

describe('attacks', () => {
  it('a replayed token is refused', async () => {
    const token = tokenFor(f, bob);
    const c = await connect(bob, token);
    await c.endAsync();
    const before = await refusals('replayed');
    await expectRefused(bob, token);
    expect((await refusals('replayed')) - before).toBe(1);
  });

  it('an expired token is refused, and so is one living longer than 10 minutes', async () => {
    const before = await refusals('expired');
    await expectRefused(bob, tokenFor(f, bob, { now: Date.now() - 120_000, lifetimeMs: 60_000 }));
    await expectRefused(bob, tokenFor(f, bob, { now: Date.now() + 3_600_000, lifetimeMs: 60_000 }));
    expect((await refusals('expired')) - before).toBe(2);
  });

  it('an unregistered device is refused, even with a well-signed token', async () => {
    const before = await refusals('unregistered');
    await expectRefused(mallory, tokenFor(f, mallory));
    expect((await refusals('unregistered')) - before).toBe(1);
  });

  it("a token for another gateway, another device's key, or garbage is refused", async () => {
    await expectRefused(bob, tokenFor(f, bob, { audience: 'someone-else' }));
    // Mallory signs a token naming Bob's id with Mallory's key.
    const forged = tokenFor(f, { ...bob, key: mallory.key });
    await expectRefused(bob, forged);
    await expectRefused(bob, 'not-a-token');
    expect(await refusals('wrong_audience')).toBeGreaterThanOrEqual(1);
    expect(await refusals('bad_signature')).toBeGreaterThanOrEqual(1);
    expect(await refusals('malformed_token')).toBeGreaterThanOrEqual(1);
  });

  it("a device cannot subscribe to another device's responses or to wildcards", async () => {
    const c = await connect(bob);
    const before = await refusals('forbidden_subscribe');
    // mqtt.js rejects a SUBACK whose every grant failed; the packet carries the grants.
    const err = (await c
      .subscribeAsync([alice.topics.response, `iosnet/${f.chainId}/d/+/res`, '#', alice.topics.request], {
        qos: 1,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as { packet?: { granted: number[] } } | undefined;
    expect(err?.packet?.granted).toEqual([128, 128, 128, 128]);
    expect((await refusals('forbidden_subscribe')) - before).toBe(4);
    expect(c.connected).toBe(true);
  });

  it("a device publishing on another device's topic (or any other) is disconnected; nothing is served", async () => {
    const victim = await connect(carol);
    const inbox = new ResponseInbox(victim, carol.topics.response);
    await victim.subscribeAsync(carol.topics.response, { qos: 1 });
    const before = await refusals('forbidden_publish');
    const mempool = f.node.mempool.size;
    const attempts = [
      carol.topics.request,
      carol.topics.response,
      announcementTopic(f.chainId, 0),
      `iosnet/${f.chainId}/auth/${carol.hex}`,
      'anything/else',
    ];
    for (const topic of attempts) {
      const attacker = await connect(bob);
      const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
      attacker.publish(
        topic,
        Buffer.from(encodeDeviceRequest({ kind: 'getTxStatus', requestId: 42, txId: new Uint8Array(32) })),
        { qos: 1 },
      );
      await closed;
    }
    // Malformed CBOR on every other topic: refused the same way.
    for (const topic of attempts.slice(1)) {
      const attacker = await connect(bob);
      const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
      attacker.publish(topic, Buffer.from([0xff, 0xfe]), { qos: 1 });
      await closed;
    }
    expect((await refusals('forbidden_publish')) - before).toBe(attempts.length * 2 - 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(inbox.received).toEqual([]);
    expect(f.node.mempool.size).toBe(mempool);
    // Retained announcement untouched: still a valid state block.
    const fresh = await connect(carol);
    const announced = new Promise<Buffer>((resolve) => fresh.on('message', (_t, p) => resolve(p)));
    await fresh.subscribeAsync(announcementTopic(f.chainId, 0), { qos: 1 });
    expect(decodeStateBlockAnnouncement(new Uint8Array(await announced)).kind).toBe('stateBlockAnnouncement');
  });

  it('rate-limits a flooding device without starving another', async () => {
    const flooder = await connect(bob);
    const floodInbox = new ResponseInbox(flooder, bob.topics.response);
    await flooder.subscribeAsync(bob.topics.response, { qos: 1 });
    const quiet = await connect(carol);
    const quietInbox = new ResponseInbox(quiet, carol.topics.response);
    await quiet.subscribeAsync(carol.topics.response, { qos: 1 });
    const before = await refusals('rate_limited');
    for (let i = 1; i <= 40; i++) {
      flooder.publish(
        bob.topics.request,
        Buffer.from(encodeDeviceRequest({ kind: 'getTxStatus', requestId: i, txId: new Uint8Array(32) })),
        { qos: 1 },
      );
    }
    quiet.publish(
      carol.topics.request,
      Buffer.from(
        encodeDeviceRequest({ kind: 'proveRecord', requestId: 1, namespace: 'device', id: carol.id }),
      ),
      { qos: 1 },
    );
    expect((await quietInbox.next(1)).kind).toBe('recordProof');
    await waitFor(async () => ((await refusals('rate_limited')) - before >= 25 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    const served = floodInbox.received.filter((r) => r.kind === 'txStatus').length;
    const limited = floodInbox.received.filter((r) => r.kind === 'error' && r.code === 'rateLimited').length;
    expect(served).toBeGreaterThanOrEqual(10);
    expect(served).toBeLessThanOrEqual(12);
    // One rateLimited error per second; the rest dropped.
    expect(limited).toBeGreaterThanOrEqual(1);
    expect(limited).toBeLessThanOrEqual(2);
  });

  it('cuts off a client announcing an oversize packet before buffering it (bounded memory)', async () => {
    const before = await refusals('malformed_request');
    const c = await connect(bob);
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish(bob.topics.request, Buffer.alloc(100_000), { qos: 0 });
    await closed;
    // Unauthenticated: a raw socket whose first header announces ~256 MB.
    const raw = tcpConnect(f.node.ports.mqtt!, '127.0.0.1');
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    const rawClosed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    raw.on('error', () => {});
    raw.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    await rawClosed;
    expect((await refusals('malformed_request')) - before).toBe(2);
  });

  it('counts connected devices', async () => {
    const n = f.node.mqtt!.connectedDevices();
    expect(n).toBeGreaterThan(0);
    const c = await connect(alice, tokenFor(f, alice), `${alice.hex}-second`);
    await waitFor(() => (f.node.mqtt!.connectedDevices() === n + 1 ? true : undefined));
    await c.endAsync();
    await waitFor(() => (f.node.mqtt!.connectedDevices() === n ? true : undefined));
  });
});
