/**
 * The dashboard's event stream hub on a plain node:http server: the text/event-stream framing, delivery to
 * every client, and the bound on what one client may have queued (a client that stops reading is dropped;
 * the others go on).
 */
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { EventStreamHub, formatEvent } from '../../../../gateway/dashboard/sse.js';

describe('formatEvent', () => {
  test('one data line per payload line, an id when given, a blank line at the end', () => {
    expect(formatEvent('tick', '{"a":1}')).toBe('event: tick\ndata: {"a":1}\n\n');
    expect(formatEvent('snapshot', 'x\ny\r\nz', 7)).toBe(
      'id: 7\nevent: snapshot\ndata: x\ndata: y\ndata: z\n\n',
    );
  });

  test('an event name with a line break is refused (it would forge fields)', () => {
    expect(() => formatEvent('tick\ndata: evil', '{}')).toThrow(RangeError);
  });
});

interface Parsed {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

/** Parses a text/event-stream as it arrives (WHATWG HTML §9.2.6, the subset the hub writes). */
function eventReader(res: IncomingMessage): { events: Parsed[]; next: (n: number) => Promise<Parsed[]> } {
  const events: Parsed[] = [];
  let buffer = '';
  const waiters: (() => void)[] = [];
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = { event: 'message', data: [] as string[], id: undefined as string | undefined };
      let any = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':') || line.startsWith('retry:')) continue;
        const [k, ...rest] = line.split(': ');
        const v = rest.join(': ');
        if (k === 'event') fields.event = v;
        else if (k === 'data') fields.data.push(v);
        else if (k === 'id') fields.id = v;
        any = true;
      }
      if (any) {
        events.push({
          event: fields.event,
          data: fields.data.join('\n'),
          ...(fields.id ? { id: fields.id } : {}),
        });
      }
      end = buffer.indexOf('\n\n');
    }
    for (const w of waiters.splice(0)) w();
  });
  const next = async (n: number) => {
    while (events.length < n) await new Promise<void>((r) => waiters.push(r));
    return events.slice(0, n);
  };
  return { events, next };
}

let server: Server | undefined;
let hub: EventStreamHub | undefined;

afterEach(async () => {
  hub?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  hub = undefined;
});

async function serve(h: EventStreamHub): Promise<string> {
  server = createServer((_req, res) => h.attach(res, [{ event: 'snapshot', data: '{"first":true}' }]));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
}

const open = (url: string) => new Promise<IncomingMessage>((resolve) => get(url, resolve));

const waitUntil = async (check: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('EventStreamHub', () => {
  test('serves text/event-stream: the first events on connect, then every broadcast, with rising ids', async () => {
    hub = new EventStreamHub({
      maxBufferedBytes: 1 << 20,
      maxClients: 4,
      heartbeatMs: 60_000,
      retryMs: 1500,
    });
    const url = await serve(hub);
    const res = await open(url);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    const reader = eventReader(res);
    await reader.next(1);
    expect(hub.size).toBe(1);
    hub.broadcast('tick', '{"height":5}');
    const [snap, tick] = await reader.next(2);
    expect(snap).toEqual({ event: 'snapshot', data: '{"first":true}', id: '1' });
    expect(tick).toEqual({ event: 'tick', data: '{"height":5}', id: '2' });
    res.destroy();
    await waitUntil(() => hub!.size === 0);
  });

  test('a client that stops reading is dropped once its queue passes the bound; a reading one stays', async () => {
    const maxBufferedBytes = 64 * 1024;
    hub = new EventStreamHub({ maxBufferedBytes, maxClients: 4, heartbeatMs: 60_000, retryMs: 1500 });
    const url = await serve(hub);
    const fast = await open(url);
    const fastReader = eventReader(fast);
    const slow = await open(url);
    // Paused: nothing is read, so the kernel buffers fill and then the server's queue grows.
    slow.pause();
    await waitUntil(() => hub!.size === 2);
    const payload = JSON.stringify({ pad: 'x'.repeat(16 * 1024) });
    let sent = 0;
    // Loopback socket buffers hold a few MB; bound the loop well above that.
    while (hub.dropped === 0 && sent < 4000) {
      hub.broadcast('tick', payload);
      sent++;
      // Let the fast client read and the sockets drain.
      await new Promise((r) => setImmediate(r));
    }
    expect(hub.dropped).toBe(1);
    expect(hub.size).toBe(1);
    // The fast client got everything sent so far, in order.
    const got = await fastReader.next(sent + 1);
    expect(got.at(-1)!.data).toBe(payload);
    hub.broadcast('tick', '{"after":true}');
    await fastReader.next(sent + 2);
    expect(fastReader.events.at(-1)!.data).toBe('{"after":true}');
    fast.destroy();
    slow.destroy();
  });

  test('full: the hub says so once maxClients are attached', async () => {
    hub = new EventStreamHub({
      maxBufferedBytes: 1 << 20,
      maxClients: 1,
      heartbeatMs: 60_000,
      retryMs: 1500,
    });
    const url = await serve(hub);
    const res = await open(url);
    await waitUntil(() => hub!.size === 1);
    expect(hub.full).toBe(true);
    res.destroy();
    await waitUntil(() => hub!.size === 0);
    expect(hub.full).toBe(false);
  });
});
