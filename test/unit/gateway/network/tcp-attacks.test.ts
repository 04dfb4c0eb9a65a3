/**
 * Hostile input against a TCP node, from raw node:net sockets: handshakes it must refuse, then, after a
 * valid handshake, frames it must drop the sender for. Each post-handshake case checks that THAT peer is
 * dropped with its typed code while an honest third peer keeps exchanging messages with the node.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../../gateway/log/logger.js';
import type { HandshakeErrorCode } from '../../../../gateway/network/handshake.js';
import type { Network, PeerDropCode } from '../../../../gateway/network/interface.js';
import type { NetworkOptionsInput } from '../../../../gateway/network/options.js';
import { createTcpNetwork, type TcpNetwork } from '../../../../gateway/network/tcp.js';
import {
  captureLogger,
  fastOptions,
  GENESIS_HASH,
  identity,
  type Recorder,
  record,
  sleep,
  waitFor,
} from './helpers.js';
import { RawPeer } from './raw-peer.js';

interface Scene {
  node: TcpNetwork;
  logs: LogRecord[];
  rec: Recorder;
  honest: Network;
  /** Messages the node has received from the honest peer so far. */
  fromHonest(): number;
  /** Keeps the honest peer talking to the node (and the node answering) until the test ends. */
  chatter(intervalMs?: number): void;
}

describe('tcp network under attack', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** The node under attack, with an honest peer talking to it every `chatterMs` throughout. */
  async function scene(options: NetworkOptionsInput = {}, chatterMs = 5): Promise<Scene> {
    const { logger, records } = captureLogger();
    const node = createTcpNetwork({ ...fastOptions, ...options }, { ...identity('victim'), logger });
    cleanups.push(() => node.stop());
    const rec = record(node);
    await node.start();
    const honest = createTcpNetwork(
      { ...fastOptions, peers: [`127.0.0.1:${node.port}`] },
      identity('honest'),
    );
    cleanups.push(() => honest.stop());
    const honestRec = record(honest);
    await honest.start();
    await waitFor(() => node.peers().length === 1, 'honest peer connected');
    node.onMessage((from) => {
      if (from === honest.peerId) node.send(from, { type: 'vote', bytes: Uint8Array.of(1) });
    });
    const fromHonest = () => node.peers().find((p) => p.peerId === honest.peerId)?.messagesIn ?? 0;
    const s: Scene = {
      node,
      logs: records,
      rec,
      honest,
      fromHonest,
      chatter(intervalMs = 5) {
        let h = 0;
        const timer = setInterval(
          () => honest.send(node.peerId, { type: 'status', height: h++, view: 0, stateBlocks: 0 }),
          intervalMs,
        );
        cleanups.push(() => {
          clearInterval(timer);
          // The node answered every message: the honest link carried traffic both ways throughout.
          expect(honestRec.messages.length).toBeGreaterThan(0);
          expect(honestRec.downs()).toHaveLength(0);
        });
      },
    };
    s.chatter(chatterMs);
    return s;
  }

  async function raw(s: Scene): Promise<RawPeer> {
    const r = await RawPeer.connect(s.node.port!);
    cleanups.push(() => r.destroy());
    return r;
  }

  async function refusedWith(s: Scene, code: HandshakeErrorCode, r: RawPeer, timeoutMs = 3000) {
    await Promise.race([r.closed, sleep(timeoutMs)]);
    expect(r.isClosed).toBe(true);
    await waitFor(() => s.logs.some((l) => l.message === 'handshake failed' && l.data?.code === code), code);
    expect(s.node.peers().map((p) => p.peerId)).toEqual([s.honest.peerId]);
  }

  describe('handshake refusals', () => {
    const cases: [string, HandshakeErrorCode, (r: RawPeer) => Promise<void>][] = [
      [
        'another chain id',
        'HANDSHAKE_WRONG_CHAIN',
        (r) => r.handshake(identity('x'), { hello: { chainId: 'other' } }),
      ],
      [
        'another genesis hash',
        'HANDSHAKE_WRONG_GENESIS',
        (r) => r.handshake(identity('x'), { hello: { genesisHash: GENESIS_HASH.map((b) => b ^ 1) } }),
      ],
      [
        'a bad signature',
        'HANDSHAKE_BAD_SIGNATURE',
        (r) => r.handshake(identity('x'), { corruptSignature: true }),
      ],
      [
        "the node's own key",
        'HANDSHAKE_SELF',
        (r) => r.handshake(identity('x'), { hello: { nodePublicKey: identity('victim').nodePublicKey } }),
      ],
      ['another version', 'HANDSHAKE_VERSION', (r) => r.handshake(identity('x'), { hello: { version: 2 } })],
      [
        'a low-order X25519 key',
        'HANDSHAKE_BAD_KEY',
        (r) => r.handshake(identity('x'), { hello: { ephemeralPublicKey: new Uint8Array(32) } }),
      ],
      [
        'an HTTP request instead of a hello',
        'HANDSHAKE_OVERSIZE',
        async (r) => r.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')),
      ],
      [
        'short garbage instead of a hello',
        'HANDSHAKE_MALFORMED',
        async (r) => r.write(Buffer.concat([RawPeer.header(16), randomBytes(16)])),
      ],
      [
        'an oversize hello (257 bytes announced)',
        'HANDSHAKE_OVERSIZE',
        async (r) => r.write(Buffer.concat([RawPeer.header(257), Buffer.alloc(257, 0x80)])),
      ],
    ];
    it.each(cases)('refuses %s', async (_name, code, act) => {
      const s = await scene();
      const r = await raw(s);
      await act(r).catch(() => {}); // the raw side sees its socket closed mid-handshake
      await refusedWith(s, code, r);
      const before = s.fromHonest();
      await waitFor(() => s.fromHonest() > before + 3, 'honest peer still served');
    });

    it('refuses a silent socket after handshakeTimeoutMs', async () => {
      const s = await scene({ handshakeTimeoutMs: 300 });
      const r = await raw(s);
      const t0 = Date.now();
      await refusedWith(s, 'HANDSHAKE_TIMEOUT', r);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    });

    it('survives a storm of random bytes from many sockets at once', async () => {
      const s = await scene({ handshakeTimeoutMs: 500 });
      const storm = await Promise.all(Array.from({ length: 30 }, () => raw(s)));
      for (const [i, r] of storm.entries()) {
        // Half announce a plausible length, half are pure noise.
        const noise = randomBytes(1 + ((i * 97) % 400));
        r.write(i % 2 ? Buffer.concat([RawPeer.header(noise.length), noise]) : noise);
      }
      await Promise.all(storm.map((r) => Promise.race([r.closed, sleep(3000)])));
      expect(storm.every((r) => r.isClosed)).toBe(true);
      const before = s.fromHonest();
      await waitFor(() => s.fromHonest() > before + 3, 'honest peer still served');
      expect(s.node.peers()).toHaveLength(1);
    });

    it('closes sockets beyond maxPendingHandshakes at accept', async () => {
      const s = await scene({ maxPendingHandshakes: 3, handshakeTimeoutMs: 1000 });
      const silent = await Promise.all([raw(s), raw(s), raw(s)]);
      await sleep(50);
      const extra = await raw(s);
      await Promise.race([extra.closed, sleep(500)]);
      expect(extra.isClosed).toBe(true);
      expect(silent.some((r) => r.isClosed)).toBe(false);
    });
  });

  describe('after the handshake', () => {
    /** A raw peer with a completed handshake that has delivered one valid message. */
    async function authenticated(s: Scene, label = 'mallory'): Promise<{ r: RawPeer; id: string }> {
      const r = await raw(s);
      await r.handshake(identity(label));
      r.sendMessage({ type: 'status', height: 1, view: 0, stateBlocks: 0 });
      await waitFor(() => s.node.peers().length === 2, 'attacker up');
      const id = s.node.peers().find((p) => p.peerId !== s.honest.peerId)!;
      await waitFor(() => (s.node.peers().find((p) => p.peerId === id.peerId)?.messagesIn ?? 0) === 1, 'msg');
      return { r, id: id.peerId };
    }

    async function droppedWith(s: Scene, r: RawPeer, id: string, code: PeerDropCode) {
      await waitFor(() => s.rec.downs(id).length === 1, `drop ${code}`);
      const down = s.rec.downs(id)[0]!;
      expect(down.code).toBe(code);
      await Promise.race([r.closed, sleep(2000)]);
      expect(r.isClosed).toBe(true);
      expect(s.node.peers().map((p) => p.peerId)).toEqual([s.honest.peerId]);
      const before = s.fromHonest();
      await waitFor(() => s.fromHonest() > before + 3, 'honest peer still served');
      return down;
    }

    const status = new Uint8Array([0x84, 0x01, 0x01, 0x00, 0x00]); // [1, 1, 0, 0] = status

    it('a frame with a bad GCM tag', async () => {
      const s = await scene();
      const { r, id } = await authenticated(s);
      r.sendSealedMutated(status, (f) => {
        f[f.length - 1]! ^= 0x01;
      });
      await droppedWith(s, r, id, 'FRAME_DECRYPT_FAILED');
    });

    it('a replayed frame (the nonce counter has moved on)', async () => {
      const s = await scene();
      const { r, id } = await authenticated(s);
      let copy: Buffer | undefined;
      r.sendSealedMutated(status, (f) => {
        copy = Buffer.from(f);
      });
      r.write(copy!);
      await droppedWith(s, r, id, 'FRAME_DECRYPT_FAILED');
    });

    it('a frame shorter than a GCM tag', async () => {
      const s = await scene();
      const { r, id } = await authenticated(s);
      r.write(Buffer.concat([RawPeer.header(5), Buffer.alloc(5)]));
      await droppedWith(s, r, id, 'FRAME_DECRYPT_FAILED');
    });

    it('an oversize length prefix, refused before the body is buffered', async () => {
      const s = await scene({ maxFrameBytes: 1 << 20 });
      const { r, id } = await authenticated(s);
      const before = process.memoryUsage().arrayBuffers;
      r.write(RawPeer.header(0xffff_fff0));
      // Stream 64 MiB of "body" as fast as the socket takes it (respecting backpressure on our side).
      const chunk = Buffer.alloc(64 * 1024, 0xab);
      let peak = 0;
      for (let sent = 0; sent < 64 << 20 && !r.isClosed; sent += chunk.length) {
        if (!r.socket.write(chunk)) {
          await Promise.race([new Promise((ok) => r.socket.once('drain', ok)), r.closed]);
        }
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
      }
      const down = await droppedWith(s, r, id, 'FRAME_OVERSIZE');
      expect(down.reason).toMatch(/4294967280/);
      expect(peak).toBeLessThan(8 << 20);
    });

    it('valid encryption of bytes that are not CBOR', async () => {
      const s = await scene();
      const { r, id } = await authenticated(s);
      r.sendPlaintext(Uint8Array.of(0xff, 0x00, 0x13));
      const down = await droppedWith(s, r, id, 'MESSAGE_INVALID');
      expect(down.reason).toMatch(/^DECODE_/);
    });

    it('valid encryption of non-canonical CBOR', async () => {
      const s = await scene();
      const { r, id } = await authenticated(s);
      r.sendPlaintext(Uint8Array.of(0x84, 0x18, 0x01, 0x00, 0x00, 0x00)); // type 1 as a 2-byte uint
      const down = await droppedWith(s, r, id, 'MESSAGE_INVALID');
      expect(down.reason).toMatch(/^DECODE_NON_CANONICAL/);
    });

    it('an unknown message type', async () => {
      const s = await scene();
      const { r, id } = await authenticated(s);
      r.sendPlaintext(RawPeer.cborUints([99, 1, 2]));
      const down = await droppedWith(s, r, id, 'MESSAGE_INVALID');
      expect(down.reason).toMatch(/^DECODE_UNKNOWN_TYPE/);
    });

    it('a truncated frame, then close', async () => {
      const s = await scene();
      const { r, id } = await authenticated(s);
      r.write(Buffer.concat([RawPeer.header(100), Buffer.alloc(50)]));
      await sleep(20);
      r.socket.end();
      await droppedWith(s, r, id, 'FRAME_TRUNCATED');
    });

    it('a clean close between frames is REMOTE_CLOSED', async () => {
      const s = await scene();
      const { r, id } = await authenticated(s);
      r.socket.end();
      await droppedWith(s, r, id, 'REMOTE_CLOSED');
    });

    it('a message flood: over-limit frames are discarded, then the peer is dropped and banned', async () => {
      const s = await scene(
        {
          rateLimit: { messagesPerSecond: 100, messagesBurst: 50, excessBurst: 20, excessPerSecond: 1 },
          banMs: 60_000,
        },
        25, // 40 messages/s: under the limit
      );
      const { r, id } = await authenticated(s, 'flooder');
      for (let i = 0; i < 500; i++) r.sendMessage({ type: 'status', height: i, view: 0, stateBlocks: 0 });
      await droppedWith(s, r, id, 'RATE_LIMITED');
      // The same key is refused at the handshake while banned.
      const again = await raw(s);
      await again.handshake(identity('flooder')).catch(() => {});
      await refusedWith(s, 'HANDSHAKE_REFUSED', again);
    });

    it('a byte flood is dropped as well', async () => {
      const s = await scene(
        {
          maxFrameBytes: 1 << 20,
          rateLimit: { bytesPerSecond: 1 << 20, bytesBurst: 2 << 20, excessBurst: 3, excessPerSecond: 1 },
        },
        25,
      );
      const { r, id } = await authenticated(s, 'byte-flooder');
      for (let i = 0; i < 12; i++) r.sendMessage({ type: 'proposal', bytes: new Uint8Array(900 * 1024) });
      await droppedWith(s, r, id, 'RATE_LIMITED');
    });

    it('a short burst over the limit costs some messages, not the connection', async () => {
      const s = await scene(
        { rateLimit: { messagesPerSecond: 100, messagesBurst: 50, excessBurst: 20, excessPerSecond: 1 } },
        25,
      );
      const { r, id } = await authenticated(s, 'bursty');
      for (let i = 0; i < 60; i++) r.sendMessage({ type: 'status', height: i, view: 0, stateBlocks: 0 });
      await sleep(300);
      const info = s.node.peers().find((p) => p.peerId === id)!;
      expect(info).toBeDefined();
      // 1 + 59 fit the burst of 50 plus what refilled meanwhile; the rest was discarded, not delivered.
      expect(info.messagesIn).toBeLessThan(61);
      expect(info.messagesIn).toBeGreaterThanOrEqual(50);
      expect(s.rec.downs(id)).toHaveLength(0);
    });
  });
});
