/**
 * The TCP network: the shared contract, then connection management over loopback (reconnect, duplicate
 * resolution, a 4-node mesh, backpressure, key exhaustion). Attacks are in tcp-attacks.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError } from '../../../../core/errors.js';
import type { Network } from '../../../../gateway/network/interface.js';
import type { NetworkOptionsInput } from '../../../../gateway/network/options.js';
import { createTcpNetwork, type TcpNetwork } from '../../../../gateway/network/tcp.js';
import { captureLogger, fastOptions, identity, record, sleep, waitFor } from './helpers.js';
import { describeNetworkContract } from './network-contract.js';
import { RawPeer } from './raw-peer.js';

const endpoint = (n: Network) => `127.0.0.1:${(n as TcpNetwork).port}`;

describeNetworkContract('tcp', () => ({
  create: (label) => createTcpNetwork(fastOptions, identity(label)),
  endpointOf: endpoint,
}));

describe('tcp network', () => {
  let nodes: Network[] = [];
  let raws: RawPeer[] = [];
  afterEach(async () => {
    for (const r of raws) r.destroy();
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
    raws = [];
  });

  async function start(label: string, options: NetworkOptionsInput = {}) {
    const n = createTcpNetwork({ ...fastOptions, ...options }, identity(label));
    nodes.push(n);
    await n.start();
    return n;
  }

  it('checks its identity and options at construction', () => {
    const id = identity('a');
    expect(() => createTcpNetwork({}, { ...id, nodePublicKey: identity('b').nodePublicKey })).toThrow(
      ArgumentError,
    );
    expect(() => createTcpNetwork({ peers: ['nope'] }, id)).toThrow(/endpoint/);
    expect(() => createTcpNetwork({ maxFrameBytes: 1 << 20, rateLimit: { bytesBurst: 1000 } }, id)).toThrow(
      /bytesBurst/,
    );
  });

  it('dials options.peers at start, and a 4-node mesh where everyone dials everyone settles on one link per pair', async () => {
    const a = await start('m0');
    const b = await start('m1', { peers: [endpoint(a)] });
    await waitFor(() => a.peers().length === 1 && b.peers().length === 1, 'options.peers dialed');
    const c = await start('m2');
    const d = await start('m3');
    const all = [a, b, c, d];
    const recs = all.map(record);
    for (const x of all) for (const y of all) if (x !== y) x.addPeer(endpoint(y));
    await waitFor(() => all.every((n) => n.peers().length === 3), 'mesh');
    await sleep(300); // duplicates resolved, nothing flaps
    for (const [i, n] of all.entries()) {
      expect(n.peers()).toHaveLength(3);
      expect(recs[i]!.downs()).toHaveLength(0);
    }
    for (const [i, n] of all.entries()) n.broadcast({ type: 'status', height: i, view: 0, stateBlocks: 0 });
    await waitFor(() => recs.every((r) => r.messages.length === 3), 'broadcasts');
  });

  it('simultaneous dials: both ends keep the same single connection (the one the lower PeerId initiated)', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await start(`sim-a${round}`);
      const b = await start(`sim-b${round}`);
      const ra = record(a);
      const rb = record(b);
      a.addPeer(endpoint(b));
      b.addPeer(endpoint(a));
      await waitFor(() => a.peers().length === 1 && b.peers().length === 1, 'connected');
      await sleep(150);
      expect(ra.ups()).toHaveLength(1);
      expect(rb.ups()).toHaveLength(1);
      expect(ra.downs()).toHaveLength(0);
      expect(rb.downs()).toHaveLength(0);
      const [pa] = a.peers();
      const [pb] = b.peers();
      const lower = a.peerId < b.peerId ? a : b;
      expect(pa!.inbound).toBe(lower !== a);
      expect(pb!.inbound).toBe(lower !== b);
      a.send(b.peerId, { type: 'vote', bytes: new Uint8Array([round]) });
      b.send(a.peerId, { type: 'vote', bytes: new Uint8Array([round]) });
      await waitFor(() => ra.messages.length === 1 && rb.messages.length === 1, 'both ways');
    }
  });

  it('reconnects with backoff after the remote restarts on the same port', async () => {
    const b = await start('restart-b');
    const port = (b as TcpNetwork).port!;
    const a = await start('restart-a', { peers: [`127.0.0.1:${port}`] });
    const ra = record(a);
    await waitFor(() => a.peers().length === 1, 'first connection');
    await b.stop();
    await waitFor(() => ra.downs().length === 1, 'down');
    await sleep(150); // a few failed redials while b is away
    const b2 = createTcpNetwork({ ...fastOptions, listenPort: port }, identity('restart-b'));
    nodes.push(b2);
    await b2.start();
    await waitFor(() => ra.events.at(-1)?.type === 'up' && a.peers().length === 1, 'reconnected');
    expect(ra.downs()).toHaveLength(1);
    const rb2 = record(b2);
    a.send(b2.peerId, { type: 'status', height: 9, view: 0, stateBlocks: 0 });
    await waitFor(() => rb2.messages.length === 1, 'message after reconnect');
  });

  it('stops dialing an endpoint that turns out to be itself', async () => {
    const { logger, records } = captureLogger();
    const a = createTcpNetwork(fastOptions, { ...identity('self'), logger });
    nodes.push(a);
    await a.start();
    a.addPeer(endpoint(a));
    await sleep(300);
    const selfRefusals = records.filter(
      (r) => r.data?.code === 'HANDSHAKE_SELF' && r.data.role === 'initiator',
    );
    expect(selfRefusals).toHaveLength(1);
    expect(a.peers()).toEqual([]);
  });

  it('drops a peer that does not read once its outbound queue passes the cap, and keeps serving others', async () => {
    const n = await start('slow-n', {
      maxFrameBytes: 1 << 20,
      maxOutboundQueueBytes: 2 << 20,
      rateLimit: { bytesBurst: 4 << 20 },
    });
    const honest = await start('slow-h', { peers: [endpoint(n)] });
    const rn = record(n);
    const rh = record(honest);
    const raw = await RawPeer.connect((n as TcpNetwork).port!);
    raws.push(raw);
    await raw.handshake(identity('slow-raw'));
    await waitFor(() => n.peers().length === 2, 'both connected');
    raw.socket.pause(); // never reads again: the kernel buffers fill, then our queue
    const rawId = n.peers().find((p) => p.peerId !== honest.peerId)!.peerId;
    const big = { type: 'proposal' as const, bytes: new Uint8Array(900 * 1024) };
    const heapBefore = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 200 && n.peers().length === 2; i++) {
      n.send(rawId, big);
      await sleep(1);
    }
    expect(rn.downs(rawId)[0]?.code).toBe('OUTBOUND_QUEUE_FULL');
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(32 << 20);
    n.send(honest.peerId, { type: 'status', height: 1, view: 0, stateBlocks: 0 });
    await waitFor(() => rh.messages.length === 1, 'honest peer still served');
  });

  it('closes a connection before its frame counter runs out, and the dialer reconnects with fresh keys', async () => {
    const b = await start('nonce-b', { maxFramesPerKey: 5 });
    const a = await start('nonce-a', { peers: [endpoint(b)], maxFramesPerKey: 5 });
    const ra = record(a);
    const rb = record(b);
    await waitFor(() => a.peers().length === 1, 'connected');
    for (let i = 0; i < 5; i++)
      expect(a.send(b.peerId, { type: 'status', height: i, view: 0, stateBlocks: 0 })).toBe(true);
    expect(a.send(b.peerId, { type: 'status', height: 5, view: 0, stateBlocks: 0 })).toBe(false);
    expect(ra.downs()[0]?.code).toBe('NONCE_EXHAUSTED');
    await waitFor(() => rb.messages.length === 5, 'the five before the limit');
    await waitFor(() => ra.events.at(-1)?.type === 'up' && a.peers().length === 1, 'reconnected');
    expect(a.send(b.peerId, { type: 'status', height: 6, view: 0, stateBlocks: 0 })).toBe(true);
    await waitFor(() => rb.messages.length === 6, 'after rekey');
  });

  it('refuses peers outside allowedPeers in both directions', async () => {
    const { logger, records } = captureLogger();
    const allowed = identity('allow-ok');
    const n = createTcpNetwork(
      { ...fastOptions, allowedPeers: [Buffer.from(allowed.nodePublicKey).toString('hex')] },
      { ...identity('allow-n'), logger },
    );
    nodes.push(n);
    await n.start();
    const ok = createTcpNetwork({ ...fastOptions, peers: [endpoint(n)] }, allowed);
    const other = createTcpNetwork({ ...fastOptions, peers: [endpoint(n)] }, identity('allow-no'));
    nodes.push(ok, other);
    await ok.start();
    await other.start();
    await waitFor(() => n.peers().length === 1, 'allowed peer');
    await waitFor(() => records.some((r) => r.data?.code === 'HANDSHAKE_REFUSED'), 'refusal');
    expect(n.peers().map((p) => p.peerId)).toEqual([ok.peerId]);
    expect(other.peers()).toEqual([]);
  });
});
