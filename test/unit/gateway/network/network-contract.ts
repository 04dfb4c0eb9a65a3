/**
 * The Network contract, run against every implementation (MQTT.js/aedes habit: one suite per interface).
 * Each implementation supplies a harness that makes unstarted nodes and says how to dial one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Network, PeerMessage } from '../../../../gateway/network/interface.js';
import { encodePeerMessage } from '../../../../gateway/network/messages.js';
import { record, sampleMessages, waitFor } from './helpers.js';

export interface NetworkHarness {
  /** A new, unstarted node; each label is a distinct identity. */
  create(label: string): Network;
  /** What another node passes to addPeer() to reach `node` (after node.start()). */
  endpointOf(node: Network): string;
}

/** Handles that keep a Node process alive, by kind (what vitest would wait on). */
function liveHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) {
    if (r === 'TCPSocketWrap' || r === 'TCPServerWrap' || r === 'Timeout') {
      counts.set(r, (counts.get(r) ?? 0) + 1);
    }
  }
  return counts;
}

export function describeNetworkContract(name: string, makeHarness: () => NetworkHarness): void {
  describe(`Network contract: ${name}`, () => {
    let started: Network[] = [];
    let h: NetworkHarness;

    const node = async (label: string) => {
      const n = h.create(label);
      started.push(n);
      await n.start();
      return n;
    };

    /** Starts `labels` and connects every pair (the lower index dials). */
    const mesh = async (labels: string[]) => {
      const nodes: Network[] = [];
      for (const l of labels) nodes.push(await node(l));
      for (let i = 0; i < nodes.length; i++) {
        for (let j = i + 1; j < nodes.length; j++) nodes[i]!.addPeer(h.endpointOf(nodes[j]!));
      }
      await waitFor(() => nodes.every((n) => n.peers().length === nodes.length - 1), 'full mesh');
      return nodes;
    };

    afterEach(async () => {
      await Promise.all(started.map((n) => n.stop()));
      started = [];
    });

    it('starts with an empty peer set and a PeerId', async () => {
      h = makeHarness();
      const a = await node('a');
      expect(a.peerId).toMatch(/^[0-9a-f]{64}$/);
      expect(a.peers()).toEqual([]);
    });

    it('round-trips every PeerMessage type between two nodes, in order', async () => {
      h = makeHarness();
      const [a, b] = await mesh(['a', 'b']);
      const ra = record(a!);
      const rb = record(b!);
      const samples = sampleMessages();
      for (const m of samples) expect(a!.send(b!.peerId, m)).toBe(true);
      for (const m of samples) expect(b!.send(a!.peerId, m)).toBe(true);
      await waitFor(() => rb.messages.length === samples.length, 'b receives all');
      await waitFor(() => ra.messages.length === samples.length, 'a receives all');
      // The codec is canonical (one encoding per value), so equal encodings mean equal messages; vitest's
      // toEqual walks a 1 MiB Uint8Array element by element (seconds), Buffer.equals does not.
      const same = (x: PeerMessage, y: PeerMessage) =>
        x.type === y.type && Buffer.from(encodePeerMessage(x)).equals(encodePeerMessage(y));
      expect(rb.messages.every((x, i) => same(x.message, samples[i]!))).toBe(true);
      expect(ra.messages.every((x, i) => same(x.message, samples[i]!))).toBe(true);
      const small = samples.filter((m) => m.type !== 'proposal');
      expect(rb.messages.map((x) => x.message).filter((m) => m.type !== 'proposal')).toEqual(small);
      expect(new Set(rb.messages.map((x) => x.from))).toEqual(new Set([a!.peerId]));
      expect(new Set(ra.messages.map((x) => x.from))).toEqual(new Set([b!.peerId]));
      // Each receiver owns plain Uint8Arrays (no views into transport buffers).
      const proposal = rb.messages.find((x) => x.message.type === 'proposal')!.message as Extract<
        PeerMessage,
        { type: 'proposal' }
      >;
      expect(Object.getPrototypeOf(proposal.bytes)).toBe(Uint8Array.prototype);
      expect(proposal.bytes.byteLength).toBe(proposal.bytes.buffer.byteLength);
    });

    it('counts bytes and messages per peer', async () => {
      h = makeHarness();
      const [a, b] = await mesh(['a', 'b']);
      const rb = record(b!);
      for (let i = 0; i < 5; i++) a!.send(b!.peerId, { type: 'status', height: i, view: 0, stateBlocks: 0 });
      await waitFor(() => rb.messages.length === 5, 'messages');
      const outA = a!.peers().find((p) => p.peerId === b!.peerId)!;
      const inB = b!.peers().find((p) => p.peerId === a!.peerId)!;
      expect(outA.messagesOut).toBe(5);
      expect(inB.messagesIn).toBe(5);
      expect(outA.bytesOut).toBeGreaterThan(0);
      expect(inB.bytesIn).toBe(outA.bytesOut);
      expect(outA.inbound).toBe(false);
      expect(inB.inbound).toBe(true);
    });

    it('broadcast reaches every other node of a 4-node mesh', async () => {
      h = makeHarness();
      const nodes = await mesh(['n0', 'n1', 'n2', 'n3']);
      const recs = nodes.map(record);
      for (const [i, n] of nodes.entries()) {
        n.broadcast({ type: 'status', height: i, view: i, stateBlocks: 0 });
      }
      await waitFor(() => recs.every((r) => r.messages.length === 3), 'three messages each');
      nodes.forEach((n, i) => {
        const got = recs[i]!.messages.map((x) => [x.from, (x.message as { height: number }).height]);
        const expected = nodes.flatMap((o, j) => (j === i ? [] : [[o.peerId, j]]));
        expect(new Set(got.map((g) => JSON.stringify(g)))).toEqual(
          new Set(expected.map((e) => JSON.stringify(e))),
        );
        expect(
          n
            .peers()
            .map((p) => p.peerId)
            .sort(),
        ).toEqual(
          nodes
            .filter((o) => o !== n)
            .map((o) => o.peerId)
            .sort(),
        );
      });
    });

    it('send to a peer that is not connected returns false', async () => {
      h = makeHarness();
      const [a, b] = await mesh(['a', 'b']);
      const status: PeerMessage = { type: 'status', height: 1, view: 0, stateBlocks: 0 };
      expect(a!.send('00'.repeat(32), status)).toBe(false);
      expect(a!.send(a!.peerId, status)).toBe(false);
      await b!.stop();
      await waitFor(() => a!.peers().length === 0, 'b gone');
      expect(a!.send(b!.peerId, status)).toBe(false);
    });

    it('reports peer up and down with the peer and a typed code', async () => {
      h = makeHarness();
      const a = await node('a');
      const b = await node('b');
      const ra = record(a);
      const rb = record(b);
      a.addPeer(h.endpointOf(b));
      await waitFor(() => ra.ups().length === 1 && rb.ups().length === 1, 'up on both sides');
      expect(ra.ups()[0]!.peer).toMatchObject({ peerId: b.peerId, inbound: false });
      expect(rb.ups()[0]!.peer).toMatchObject({ peerId: a.peerId, inbound: true });
      await b.stop();
      await waitFor(() => ra.downs().length === 1, 'down on a');
      expect(ra.downs()[0]).toMatchObject({ type: 'down', peerId: b.peerId, code: 'REMOTE_CLOSED' });
      await waitFor(() => rb.downs().length === 1, 'down on b');
      expect(rb.downs()[0]).toMatchObject({ peerId: a.peerId, code: 'STOPPED' });
      expect(ra.ups()).toHaveLength(1);
    });

    it('penalize drops the peer and refuses it while banned', async () => {
      h = makeHarness();
      const [a, b] = await mesh(['a', 'b']);
      const ra = record(a!);
      a!.penalize(b!.peerId, 'equivocation');
      await waitFor(() => ra.downs().length === 1, 'down');
      expect(ra.downs()[0]).toMatchObject({ peerId: b!.peerId, code: 'PENALIZED', reason: 'equivocation' });
      b!.addPeer(h.endpointOf(a!));
      await new Promise((r) => setTimeout(r, 150));
      expect(a!.peers()).toEqual([]);
      expect(ra.ups()).toHaveLength(0);
    });

    it('stop() closes every connection and releases every handle', async () => {
      const before = liveHandles();
      h = makeHarness();
      const nodes = await mesh(['s0', 's1', 's2']);
      for (const n of nodes) n.broadcast({ type: 'vote', bytes: new Uint8Array(100) });
      await Promise.all(nodes.map((n) => n.stop()));
      for (const n of nodes) {
        expect(n.peers()).toEqual([]);
        expect(n.send(nodes[0]!.peerId, { type: 'vote', bytes: new Uint8Array(1) })).toBe(false);
        n.broadcast({ type: 'vote', bytes: new Uint8Array(1) }); // a no-op, not an error
        await n.stop(); // idempotent
      }
      // Sockets close on the next turns of the event loop after stop() resolves at the latest.
      await waitFor(
        () => {
          const after = liveHandles();
          return [...after].every(([k, v]) => v <= (before.get(k) ?? 0));
        },
        `handles released (before ${JSON.stringify([...before])}, after ${JSON.stringify([...liveHandles()])})`,
      );
    });

    it('refuses an oversize message at the sender with ArgumentError, sending nothing', async () => {
      h = makeHarness();
      const [a, b] = await mesh(['a', 'b']);
      const rb = record(b!);
      expect(() => a!.broadcast({ type: 'vote', bytes: new Uint8Array(4096) })).toThrow(/vote\.bytes/);
      expect(() => a!.send(b!.peerId, { type: 'getBlocks', fromHeight: 0, count: 0 })).toThrow(/count/);
      a!.send(b!.peerId, { type: 'vote', bytes: new Uint8Array(10) });
      await waitFor(() => rb.messages.length === 1, 'the valid one');
      expect(b!.peers()).toHaveLength(1);
    });
  });
}
