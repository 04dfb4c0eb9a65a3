/**
 * The peer network in one process, for tests and the deterministic simulator. Same Network contract as
 * TCP: endpoints are PeerIds, addPeer() is a standing intent to be connected (restored after a restart or a
 * ban expires), one link per pair, 'up'/'down' events. Every message goes through the real codec (encoded
 * by the sender, decoded by each receiver), so memory tests exercise messages.ts too; there is no
 * handshake, encryption or rate limiting.
 *
 * Delivery is always asynchronous, through a scheduler: by default delay 0 runs on the microtask queue and
 * a delay > 0 on a timer. A simulator passes its own scheduler (virtual time, its own ordering). Links can
 * be given a delay and a drop rate per direction.
 */
import { ArgumentError } from '../../core/errors.js';
import { type Logger, logger } from '../log/logger.js';
import { GCM_TAG_BYTES } from './constants.js';
import type { Network, PeerDropCode, PeerEvent, PeerId, PeerInfo, PeerMessage } from './interface.js';
import { decodePeerMessage, encodePeerMessage } from './messages.js';
import { DEFAULT_MAX_FRAME_BYTES, defaultNetworkOptions } from './options.js';
import { BanList } from './rate-limit.js';

export interface MemoryScheduler {
  /** Runs `task` after `delayMs`; tasks with equal due times run in call order. Returns a cancel function. */
  schedule(task: () => void, delayMs: number): () => void;
}

/** Microtasks for delay 0, timers otherwise. */
export const realTimeScheduler: MemoryScheduler = {
  schedule(task, delayMs) {
    if (delayMs <= 0) {
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) task();
      });
      return () => {
        cancelled = true;
      };
    }
    const t = setTimeout(task, delayMs);
    return () => clearTimeout(t);
  },
};

export interface LinkConditions {
  /** Delay of every message in this direction. */
  readonly delayMs?: number;
  /** Probability in [0, 1] that a message in this direction is silently lost. */
  readonly dropRate?: number;
}

export interface MemoryHubOptions {
  readonly scheduler?: MemoryScheduler;
  /** Uniform [0, 1) for drop decisions (a seeded generator makes runs reproducible). */
  readonly random?: () => number;
  /** Clock for bans (ms). */
  readonly now?: () => number;
  readonly maxFrameBytes?: number;
  readonly banMs?: number;
  readonly logger?: Logger;
}

export interface MemoryHub {
  /** A node's network; a stopped node's PeerId may be reused (a restart). */
  createNetwork(peerId: PeerId): Network;
  setDefaultLink(conditions: LinkConditions): void;
  /** Conditions of messages from `from` to `to` (one direction), over the default. */
  setLink(from: PeerId, to: PeerId, conditions: LinkConditions): void;
  /** Cuts the link between a and b (both see 'down' LINK_CUT) and forgets both dial intents. */
  cut(a: PeerId, b: PeerId): void;
}

interface NodeState {
  readonly id: PeerId;
  state: 'new' | 'started' | 'stopped';
  readonly intents: Set<PeerId>;
  readonly bans: BanList;
  readonly timers: Set<() => void>;
  messageHandler: ((from: PeerId, message: PeerMessage) => void) | undefined;
  readonly eventHandlers: ((event: PeerEvent) => void)[];
}

interface Side {
  readonly node: NodeState;
  readonly inbound: boolean;
  readonly connectedAt: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
}

interface Link {
  readonly key: string;
  readonly sides: Map<PeerId, Side>;
  readonly inFlight: Set<() => void>;
  closed: boolean;
}

const pairKey = (a: PeerId, b: PeerId) => (a < b ? `${a}|${b}` : `${b}|${a}`);

export function createMemoryHub(hubOptions: MemoryHubOptions = {}): MemoryHub {
  const scheduler = hubOptions.scheduler ?? realTimeScheduler;
  const random = hubOptions.random ?? Math.random;
  const now = hubOptions.now ?? Date.now;
  const maxPlaintext = (hubOptions.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES) - GCM_TAG_BYTES;
  const banMs = hubOptions.banMs ?? defaultNetworkOptions.banMs;
  const log = hubOptions.logger ?? logger('iosnet:network:memory');
  const nodes = new Map<PeerId, NodeState>();
  const links = new Map<string, Link>();
  const conditions = new Map<string, LinkConditions>();
  let defaultConditions: LinkConditions = {};

  function later(node: NodeState | undefined, task: () => void, delayMs = 0): void {
    let cancel: () => void = () => {};
    cancel = scheduler.schedule(() => {
      node?.timers.delete(cancel);
      task();
    }, delayMs);
    node?.timers.add(cancel);
  }

  function emit(node: NodeState, event: PeerEvent): void {
    later(undefined, () => {
      for (const h of node.eventHandlers) {
        try {
          h(event);
        } catch (e) {
          log.warn('peer event handler threw', { peerId: node.id, type: event.type, error: e });
        }
      }
    });
  }

  function infoOf(peer: PeerId, side: Side): PeerInfo {
    return {
      peerId: peer,
      remoteAddress: `memory:${peer}`,
      inbound: side.inbound,
      connectedAt: side.connectedAt,
      bytesIn: side.bytesIn,
      bytesOut: side.bytesOut,
      messagesIn: side.messagesIn,
      messagesOut: side.messagesOut,
    };
  }

  function linkOf(a: PeerId, b: PeerId): Link | undefined {
    return links.get(pairKey(a, b));
  }

  function connectIfWanted(x: NodeState, y: NodeState): void {
    if (x === y || x.state !== 'started' || y.state !== 'started') return;
    if (linkOf(x.id, y.id) !== undefined) return;
    const xDials = x.intents.has(y.id);
    if (!xDials && !y.intents.has(x.id)) return;
    const t = now();
    if (x.bans.bannedUntil(y.id, t) !== undefined || y.bans.bannedUntil(x.id, t) !== undefined) return;
    const side = (node: NodeState, inbound: boolean): Side => ({
      node,
      inbound,
      connectedAt: t,
      bytesIn: 0,
      bytesOut: 0,
      messagesIn: 0,
      messagesOut: 0,
    });
    const link: Link = {
      key: pairKey(x.id, y.id),
      sides: new Map([
        [x.id, side(x, !xDials)],
        [y.id, side(y, xDials)],
      ]),
      inFlight: new Set(),
      closed: false,
    };
    links.set(link.key, link);
    emit(x, { type: 'up', peer: infoOf(y.id, link.sides.get(x.id)!) });
    emit(y, { type: 'up', peer: infoOf(x.id, link.sides.get(y.id)!) });
  }

  /** Closes a link; `codes` gives each side's reason (the other side sees REMOTE_CLOSED by default). */
  function closeLink(link: Link, codes: Map<PeerId, [PeerDropCode, string]>): void {
    if (link.closed) return;
    link.closed = true;
    links.delete(link.key);
    for (const cancel of link.inFlight) cancel();
    link.inFlight.clear();
    const [a, b] = [...link.sides.keys()] as [PeerId, PeerId];
    for (const [self, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const [code, reason] = codes.get(self) ?? ['REMOTE_CLOSED', 'remote closed the link'];
      emit(link.sides.get(self)!.node, { type: 'down', peerId: other, code, reason });
    }
  }

  function deliver(link: Link, from: PeerId, to: PeerId, bytes: Uint8Array): void {
    const receiver = link.sides.get(to)!;
    if (link.closed || receiver.node.state !== 'started') return;
    let message: PeerMessage;
    try {
      message = decodePeerMessage(bytes, maxPlaintext);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      closeLink(link, new Map([[to, ['MESSAGE_INVALID', reason]]]));
      return;
    }
    receiver.bytesIn += bytes.length;
    receiver.messagesIn++;
    try {
      receiver.node.messageHandler?.(from, message);
    } catch (e) {
      log.warn('message handler threw', { peerId: to, from, type: message.type, error: e });
    }
  }

  function transmit(from: NodeState, to: PeerId, bytes: Uint8Array): boolean {
    const link = linkOf(from.id, to);
    if (link === undefined || from.state !== 'started') return false;
    const sender = link.sides.get(from.id)!;
    sender.bytesOut += bytes.length;
    sender.messagesOut++;
    const c = { ...defaultConditions, ...conditions.get(`${from.id}>${to}`) };
    if (c.dropRate !== undefined && c.dropRate > 0 && random() < c.dropRate) return true;
    let cancel: () => void = () => {};
    cancel = scheduler.schedule(() => {
      link.inFlight.delete(cancel);
      deliver(link, from.id, to, bytes);
    }, c.delayMs ?? 0);
    link.inFlight.add(cancel);
    return true;
  }

  function createNetwork(peerId: PeerId): Network {
    if (typeof peerId !== 'string' || peerId === '') throw new ArgumentError('peerId', 'expected a PeerId');
    const previous = nodes.get(peerId);
    if (previous !== undefined && previous.state !== 'stopped') {
      throw new ArgumentError('peerId', `a running network already uses ${peerId}`);
    }
    const node: NodeState = {
      id: peerId,
      state: 'new',
      // A restarted node keeps no memory, but peers that dialed it keep their intents (as TCP dialers do).
      intents: new Set(),
      bans: new BanList(),
      timers: new Set(),
      messageHandler: undefined,
      eventHandlers: [],
    };
    nodes.set(peerId, node);

    const connectAll = () => {
      for (const other of nodes.values()) connectIfWanted(node, other);
    };

    return {
      peerId,
      async start() {
        if (node.state !== 'new') throw new Error('network: start() may be called once');
        node.state = 'started';
        connectAll();
        return { port: 0 };
      },
      async stop() {
        if (node.state === 'stopped') return;
        node.state = 'stopped';
        for (const link of [...links.values()]) {
          if (link.sides.has(peerId)) closeLink(link, new Map([[peerId, ['STOPPED', 'node stopping']]]));
        }
        for (const cancel of node.timers) cancel();
        node.timers.clear();
      },
      broadcast(message) {
        const bytes = encodePeerMessage(message, maxPlaintext);
        for (const link of [...links.values()]) {
          if (!link.sides.has(peerId)) continue;
          for (const other of link.sides.keys()) if (other !== peerId) transmit(node, other, bytes);
        }
      },
      send(to, message) {
        if (linkOf(peerId, to) === undefined) return false;
        return transmit(node, to, encodePeerMessage(message, maxPlaintext));
      },
      onMessage(handler) {
        node.messageHandler = handler;
      },
      onPeerEvent(handler) {
        node.eventHandlers.push(handler);
      },
      addPeer(endpoint) {
        const target = endpoint.startsWith('memory:') ? endpoint.slice('memory:'.length) : endpoint;
        if (target === '' || target === peerId || node.state === 'stopped') return;
        node.intents.add(target);
        const other = nodes.get(target);
        if (other !== undefined) connectIfWanted(node, other);
      },
      penalize(peer, reason) {
        node.bans.ban(peer, now() + banMs);
        const link = linkOf(peerId, peer);
        if (link !== undefined) closeLink(link, new Map([[peerId, ['PENALIZED', reason]]]));
        later(
          node,
          () => {
            const other = nodes.get(peer);
            if (other !== undefined) connectIfWanted(node, other);
          },
          banMs,
        );
      },
      peers() {
        const out: PeerInfo[] = [];
        for (const link of links.values()) {
          const side = link.sides.get(peerId);
          if (side === undefined) continue;
          for (const other of link.sides.keys()) if (other !== peerId) out.push(infoOf(other, side));
        }
        return out;
      },
    };
  }

  return {
    createNetwork,
    setDefaultLink(c) {
      defaultConditions = { ...c };
    },
    setLink(from, to, c) {
      conditions.set(`${from}>${to}`, { ...c });
    },
    cut(a, b) {
      nodes.get(a)?.intents.delete(b);
      nodes.get(b)?.intents.delete(a);
      const link = linkOf(a, b);
      if (link !== undefined) {
        const code: [PeerDropCode, string] = ['LINK_CUT', 'link cut'];
        closeLink(
          link,
          new Map([
            [a, code],
            [b, code],
          ]),
        );
      }
    },
  };
}
