/**
 * `npm run bench:network [-- --json] [-- --seconds S]`: the TCP peer network on loopback, encryption on.
 * Two nodes in two processes (this one sends; a child process receives and acknowledges), so each side
 * has its own event loop as in production. Figures:
 *   - messages/s of 200-byte messages (PeerMessage plaintext; 220 bytes on the wire with header and tag),
 *   - MiB/s of 1 MiB messages (proposal payload),
 * each measured for >= S seconds (default 2.5) after a warm-up, with a bounded window of unacknowledged
 * messages (the receiver acks with a `status` message every 256 messages or 8 MiB); and the handshake time:
 * TCP connect -> initiator's handshake done, against the receiver's listening node, median and p99 of 50.
 * Each phase also reports CPU time per message in each process (process.cpuUsage), which a busy shared
 * machine disturbs far less than wall-clock rates, and the rate one core per side would sustain from it.
 * Rate limits are set to Infinity (the limiter still runs). Last line: one JSON object.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { toHex } from '../../core/bytes.js';
import { createNativeCrypto } from '../../gateway/crypto/native.js';
import { type HandshakeIdentity, performHandshake } from '../../gateway/network/handshake.js';
import type { PeerMessage } from '../../gateway/network/interface.js';
import { encodePeerMessage } from '../../gateway/network/messages.js';
import { createTcpNetwork } from '../../gateway/network/tcp.js';
import { log, machine, median, percentile, round } from './harness.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean' },
    seconds: { type: 'string', default: '2.5' },
    role: { type: 'string', default: 'sender' },
  },
});

const crypto = createNativeCrypto();
const CHAIN_ID = 'iosnet-bench';
const GENESIS_HASH = crypto.sha256(new TextEncoder().encode('iosnet-bench/genesis'));
const ACK_EVERY = 256;
const ACK_BYTES = 8 << 20;
const SMALL = 200;
const LARGE = 1 << 20;

function identity(n: number): HandshakeIdentity {
  const nodeSecretKey = crypto.sha256(Uint8Array.of(0x6e, n >> 8, n & 0xff));
  return {
    crypto,
    nodeSecretKey,
    nodePublicKey: crypto.ed25519.getPublicKey(nodeSecretKey),
    chainId: CHAIN_ID,
    genesisHash: GENESIS_HASH,
  };
}

const unlimited = {
  bytesPerSecond: Number.POSITIVE_INFINITY,
  bytesBurst: Number.POSITIVE_INFINITY,
  messagesPerSecond: Number.POSITIVE_INFINITY,
  messagesBurst: Number.POSITIVE_INFINITY,
};
const options = { rateLimit: unlimited, maxOutboundQueueBytes: 256 << 20 };

/** A vote whose whole encoding is exactly `size` bytes (payload headers included). */
function messageOfSize(size: number): PeerMessage {
  if (size > 512) {
    const payload = size - 1 - 1 - (size - 7 > 0xffff ? 5 : 3);
    const m: PeerMessage = { type: 'proposal', bytes: new Uint8Array(payload).fill(7) };
    if (encodePeerMessage(m).length !== size) throw new Error('size arithmetic');
    return m;
  }
  const m: PeerMessage = { type: 'vote', bytes: new Uint8Array(size - 4).fill(7) };
  if (encodePeerMessage(m).length !== size) throw new Error('size arithmetic');
  return m;
}

// ---------------------------------------------------------------------------------------------- receiver

async function receiver(): Promise<void> {
  const net = createTcpNetwork(options, identity(1));
  let count = 0;
  let ackedCount = 0;
  let bytesSinceAck = 0;
  let lastFrom = '';
  const ack = () => {
    ackedCount = count;
    bytesSinceAck = 0;
    net.send(lastFrom, { type: 'status', height: count, view: 0, stateBlocks: 0 });
  };
  net.onMessage((from, m) => {
    count++;
    lastFrom = from;
    bytesSinceAck += m.type === 'proposal' ? m.bytes.length : 0;
    if (count - ackedCount >= ACK_EVERY || bytesSinceAck >= ACK_BYTES) ack();
  });
  // Acknowledge a tail smaller than the batch too, so the sender can drain between phases.
  const flush = setInterval(() => {
    if (count > ackedCount) ack();
  }, 10);
  const { port } = await net.start();
  process.stdout.write(`PORT ${port}\n`);
  // "cpu" on stdin -> this process's CPU time so far (µs), for the sender's per-message cost figures.
  createInterface({ input: process.stdin }).on('line', () => {
    const u = process.cpuUsage();
    process.stdout.write(`CPU ${u.user + u.system}\n`);
  });
  process.stdin.on('end', () => {
    clearInterval(flush);
    void net.stop().then(() => process.exit(0));
  });
}

// ------------------------------------------------------------------------------------------------ sender

interface Phase {
  messages: number;
  seconds: number;
  /** CPU time per message of each process over the timed part (robust to a busy machine, unlike rates). */
  senderCpuUs: number;
  receiverCpuUs: number;
}

async function sender(): Promise<void> {
  const seconds = Number(args.seconds);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL(import.meta.url).pathname, '--role', 'receiver'],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let cpuReply: ((us: number) => void) | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const m = /^(PORT|CPU) (\d+)$/.exec(line);
      if (m?.[1] === 'PORT') resolve(Number(m[2]));
      if (m?.[1] === 'CPU') cpuReply?.(Number(m[2]));
    });
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
  });
  const receiverCpuUs = () =>
    new Promise<number>((resolve) => {
      cpuReply = resolve;
      child.stdin!.write('cpu\n');
    });
  const senderCpuUs = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };

  // ---- handshake time (fresh identities, against the receiver's node) ----
  log('handshakes...');
  const handshakeMs: number[] = [];
  for (let i = 0; i < 60; i++) {
    const id = identity(100 + i);
    const t0 = performance.now();
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    socket.on('error', () => {});
    await performHandshake(socket, { ...id, role: 'initiator', timeoutMs: 5000 });
    handshakeMs.push(performance.now() - t0);
    socket.destroy();
  }
  handshakeMs.splice(0, 10); // warm-up

  const net = createTcpNetwork({ ...options, peers: [`127.0.0.1:${port}`] }, identity(2));
  let acked = 0;
  let wake: (() => void) | undefined;
  net.onMessage((_from, m) => {
    if (m.type === 'status') acked = m.height;
    wake?.();
  });
  await net.start();
  while (net.peers().length === 0) await new Promise((r) => setTimeout(r, 5));
  const peer = net.peers()[0]!.peerId;
  let sent = 0; // cumulative over phases, like the receiver's count

  /** Sends `message` as fast as the window allows for warmup + seconds; counts only the timed part. */
  async function phase(message: PeerMessage, window: number): Promise<Phase> {
    const warmEnd = performance.now() + 500;
    let t0 = 0;
    let ackedAtStart = 0;
    let cpu0 = [0, 0];
    for (;;) {
      const now = performance.now();
      if (t0 === 0 && now >= warmEnd) {
        cpu0 = [senderCpuUs(), await receiverCpuUs()];
        t0 = performance.now();
        ackedAtStart = acked;
      }
      if (t0 !== 0 && now - t0 >= seconds * 1000) break;
      while (sent - acked < window) {
        if (!net.send(peer, message)) throw new Error('peer dropped');
        sent++;
      }
      await new Promise<void>((r) => {
        wake = r;
      });
    }
    const elapsed = (performance.now() - t0) / 1000;
    const messages = acked - ackedAtStart;
    const cpu1 = [senderCpuUs(), await receiverCpuUs()];
    // Drain so the next phase starts with an empty pipe.
    while (acked < sent) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
    return {
      messages,
      seconds: elapsed,
      senderCpuUs: (cpu1[0]! - cpu0[0]!) / messages,
      receiverCpuUs: (cpu1[1]! - cpu0[1]!) / messages,
    };
  }

  log(`${SMALL}-byte messages for ${seconds} s...`);
  const small = await phase(messageOfSize(SMALL), 8 * ACK_EVERY);
  log(`1 MiB messages for ${seconds} s...`);
  const large = await phase(messageOfSize(LARGE), 32);
  const info = net.peers()[0]!;
  await net.stop();
  child.stdin!.end();
  await new Promise((r) => child.once('exit', r));

  const report = {
    ...machine(),
    transport: 'tcp loopback, AES-256-GCM, 2 processes',
    // Other work on a shared machine moves every figure; this says how busy it was.
    loadAverage1m: round(loadavg()[0]!, 2),
    peerId: toHex(identity(2).nodePublicKey).slice(0, 16),
    handshakeMsMedian: round(median(handshakeMs), 2),
    handshakeMsP99: round(percentile(handshakeMs, 99), 2),
    smallMessageBytes: SMALL,
    smallMessagesPerSec: round(small.messages / small.seconds),
    smallMessagesMiBPerSec: round((small.messages * SMALL) / small.seconds / (1 << 20), 1),
    smallSeconds: round(small.seconds, 2),
    smallSenderCpuUsPerMsg: round(small.senderCpuUs, 1),
    smallReceiverCpuUsPerMsg: round(small.receiverCpuUs, 1),
    // What one core per side sustains if CPU is the only limit: 1e6 / the busier side's µs per message.
    smallCpuBoundMessagesPerSec: round(1e6 / Math.max(small.senderCpuUs, small.receiverCpuUs)),
    largeMessageBytes: LARGE,
    largeMessagesPerSec: round(large.messages / large.seconds, 1),
    largeMiBPerSec: round((large.messages * LARGE) / large.seconds / (1 << 20), 1),
    largeSeconds: round(large.seconds, 2),
    largeSenderCpuMsPerMsg: round(large.senderCpuUs / 1000, 2),
    largeReceiverCpuMsPerMsg: round(large.receiverCpuUs / 1000, 2),
    largeCpuBoundMiBPerSec: round(1e6 / Math.max(large.senderCpuUs, large.receiverCpuUs), 1),
    bytesOut: info.bytesOut,
  };
  if (!args.json) {
    for (const [k, v] of Object.entries(report)) log(`${k.padEnd(28)} ${v}`);
  }
  console.log(JSON.stringify(report));
}

if (args.role === 'receiver') await receiver();
else await sender();
