/**
 * Server-sent events (WHATWG HTML §9.2, "text/event-stream") for the dashboard: one hub, many clients, each
 * with a bounded send buffer. A client that cannot keep up (its socket buffer stays above the bound) is
 * dropped rather than buffered forever: the browser's EventSource reconnects by itself and receives a
 * fresh snapshot, which is all a dashboard needs. Node's `res.write` never refuses data, so the bound is
 * checked on `writableLength` (bytes queued in user space) before every write.
 */
import type { ServerResponse } from 'node:http';

export interface EventStreamOptions {
  /** Bytes a client may have queued (not yet taken by the kernel) before it is dropped. */
  readonly maxBufferedBytes: number;
  /** Clients served at once; more are refused with 503. */
  readonly maxClients: number;
  /** A comment line at this interval keeps proxies from closing an idle stream. */
  readonly heartbeatMs: number;
  /** The browser's reconnection delay (the `retry:` field). */
  readonly retryMs: number;
}

export const defaultEventStreamOptions: EventStreamOptions = {
  // A snapshot with a full committee and five minutes of series is ~60 KB; allow a few of them.
  maxBufferedBytes: 256 * 1024,
  maxClients: 64,
  heartbeatMs: 15_000,
  retryMs: 2000,
};

/** One SSE frame: `event:` + `data:` lines (one per line of the payload) + a blank line. */
export function formatEvent(event: string, data: string, id?: number): string {
  if (/[\r\n]/.test(event)) throw new RangeError('event name must not contain line breaks');
  const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`);
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\n${lines.join('')}\n`;
}

interface Client {
  readonly res: ServerResponse;
}

export class EventStreamHub {
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private nextId = 1;
  private droppedCount = 0;

  constructor(private readonly opts: EventStreamOptions = defaultEventStreamOptions) {
    this.heartbeat = setInterval(() => this.writeAll(': keep-alive\n\n'), opts.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Clients dropped for falling behind since start. */
  get dropped(): number {
    return this.droppedCount;
  }

  get full(): boolean {
    return this.clients.size >= this.opts.maxClients;
  }

  /** Takes over a response: writes the stream headers and, if given, the first events (a snapshot). */
  attach(res: ServerResponse, first: readonly { event: string; data: string }[] = []): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Tells nginx-like proxies not to buffer the stream.
      'x-accel-buffering': 'no',
    });
    const client: Client = { res };
    this.clients.add(client);
    const forget = () => this.clients.delete(client);
    res.on('close', forget);
    res.on('error', forget);
    this.write(client, `retry: ${this.opts.retryMs}\n\n`);
    for (const e of first) this.write(client, formatEvent(e.event, e.data, this.nextId++));
  }

  /** Sends one event to every client (each one drops out if it is too far behind). */
  broadcast(event: string, data: string): void {
    if (this.clients.size === 0) return;
    this.writeAll(formatEvent(event, data, this.nextId++));
  }

  private writeAll(frame: string): void {
    for (const c of [...this.clients]) this.write(c, frame);
  }

  private write(client: Client, frame: string): void {
    const { res } = client;
    if (res.destroyed) {
      this.clients.delete(client);
      return;
    }
    if (res.writableLength + Buffer.byteLength(frame) > this.opts.maxBufferedBytes) {
      this.clients.delete(client);
      this.droppedCount++;
      res.destroy();
      return;
    }
    res.write(frame);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.res.destroy();
    this.clients.clear();
  }
}
