/** The in-memory network: the shared contract, plus what only it offers (scheduler, link delay and drop). */
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../../core/bytes.js';
import type { Network } from '../../../../gateway/network/interface.js';
import { createMemoryHub, type MemoryScheduler } from '../../../../gateway/network/memory.js';
import { identity, record, waitFor } from './helpers.js';
import { describeNetworkContract } from './network-contract.js';

const idOf = (label: string) => toHex(identity(label).nodePublicKey);

describeNetworkContract('memory', () => {
  const hub = createMemoryHub({ banMs: 60_000 });
  return { create: (label) => hub.createNetwork(idOf(label)), endpointOf: (n) => n.peerId };
});

describe('memory network', () => {
  let nodes: Network[] = [];
  afterEach(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
  });

  async function pair(hub: ReturnType<typeof createMemoryHub>) {
    const a = hub.createNetwork('a');
    const b = hub.createNetwork('b');
    nodes.push(a, b);
    const ra = record(a);
    const rb = record(b);
    await a.start();
    await b.start();
    a.addPeer('b');
    return [a, b, ra, rb] as const;
  }

  it('delivers asynchronously through the scheduler, which a simulator controls', async () => {
    const queue: { task: () => void; delay: number }[] = [];
    const scheduler: MemoryScheduler = {
      schedule(task, delay) {
        const entry = { task, delay };
        queue.push(entry);
        return () => queue.splice(queue.indexOf(entry), 1);
      },
    };
    const hub = createMemoryHub({ scheduler });
    const [a, , , rb] = await pair(hub);
    hub.setLink('a', 'b', { delayMs: 50 });
    expect(a.send('b', { type: 'status', height: 1, view: 0, stateBlocks: 0 })).toBe(true);
    expect(rb.messages).toHaveLength(0); // nothing runs until the simulator says so
    // Run everything in the simulator's order: the 'up' events first (delay 0), then the message (50).
    queue.sort((x, y) => x.delay - y.delay);
    while (queue.length > 0) queue.shift()!.task();
    expect(rb.ups()).toHaveLength(1);
    expect(rb.messages.map((m) => m.message)).toEqual([
      { type: 'status', height: 1, view: 0, stateBlocks: 0 },
    ]);
  });

  it('applies per-direction delay and drop', async () => {
    let coin = 0;
    const hub = createMemoryHub({ random: () => (coin++ % 2 === 0 ? 0.1 : 0.9) });
    const [a, b, ra, rb] = await pair(hub);
    hub.setLink('a', 'b', { dropRate: 0.5 }); // drops when random() < 0.5: every other message
    hub.setLink('b', 'a', { delayMs: 30 });
    for (let i = 0; i < 10; i++) a.send('b', { type: 'status', height: i, view: 0, stateBlocks: 0 });
    const t0 = Date.now();
    b.send('a', { type: 'vote', bytes: new Uint8Array(3) });
    await waitFor(() => ra.messages.length === 1, 'delayed message');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    await waitFor(() => rb.messages.length === 5, 'half of the messages');
    expect(rb.messages.map((m) => (m.message as { height: number }).height)).toEqual([1, 3, 5, 7, 9]);
  });

  it('cut() takes the link down on both sides with LINK_CUT', async () => {
    const hub = createMemoryHub();
    const [a, , ra, rb] = await pair(hub);
    await waitFor(() => ra.ups().length === 1, 'up');
    hub.cut('a', 'b');
    await waitFor(() => ra.downs().length === 1 && rb.downs().length === 1, 'downs');
    expect(ra.downs()[0]!.code).toBe('LINK_CUT');
    expect(a.send('b', { type: 'vote', bytes: new Uint8Array(1) })).toBe(false);
  });

  it('reconnects a restarted node (a new network under the same PeerId) to the peers that dialed it', async () => {
    const hub = createMemoryHub();
    const [a, b, ra] = await pair(hub);
    await b.stop();
    await waitFor(() => ra.downs().length === 1, 'down');
    const b2 = hub.createNetwork('b');
    nodes.push(b2);
    await b2.start();
    await waitFor(() => ra.ups().length === 2, 'up again');
    expect(a.peers().map((p) => p.peerId)).toEqual(['b']);
  });

  it('refuses a second running network under one PeerId', () => {
    const hub = createMemoryHub();
    nodes.push(hub.createNetwork('x'));
    expect(() => hub.createNetwork('x')).toThrow(/already/);
  });
});
