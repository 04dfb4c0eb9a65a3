/**
 * Request/response matching over any transport: request ids, timeouts, and a bound on requests in flight,
 * so a gateway that stops answering costs the device a fixed amount of memory and a typed error, never an
 * ever-growing map of promises.
 */
import { MAX_REQUEST_ID } from '../../core/device-protocol.js';
import { DeviceError } from '../errors.js';

export interface RequestTrackerOptions {
  readonly timeoutMs: number;
  readonly maxPending: number;
}

export const defaultRequestTrackerOptions: RequestTrackerOptions = { timeoutMs: 10_000, maxPending: 16 };

interface Pending<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class RequestTracker<T> {
  private readonly pending = new Map<number, Pending<T>>();
  private nextId: number;

  constructor(
    private readonly opts: RequestTrackerOptions = defaultRequestTrackerOptions,
    firstId = 1,
  ) {
    this.nextId = firstId;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Allocates an id and a promise for its answer; `send` transmits the request built with that id. */
  async request(send: (requestId: number) => Promise<void>, what: string): Promise<T> {
    if (this.pending.size >= this.opts.maxPending) {
      throw new DeviceError('DEVICE_TOO_MANY_PENDING', `${this.pending.size} requests already in flight`, {
        maxPending: this.opts.maxPending,
      });
    }
    const id = this.allocate();
    const answer = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new DeviceError('DEVICE_TIMEOUT', `no answer to ${what} within ${this.opts.timeoutMs} ms`, {
            requestId: id,
          }),
        );
      }, this.opts.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    try {
      await send(id);
    } catch (err) {
      this.settle(id)?.reject(err as Error);
    }
    return answer;
  }

  /** Delivers an answer; false when no request with that id is waiting (late, duplicate or invented). */
  resolve(id: number, value: T): boolean {
    const p = this.settle(id);
    if (!p) return false;
    p.resolve(value);
    return true;
  }

  /** Fails one request; false when no request with that id is waiting. */
  reject(id: number, err: Error): boolean {
    const p = this.settle(id);
    if (!p) return false;
    p.reject(err);
    return true;
  }

  /** Fails every request in flight (link down, or close). */
  rejectAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(err);
  }

  private settle(id: number): Pending<T> | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(id);
    return p;
  }

  private allocate(): number {
    // Ids wrap at 2^32 and skip ids still in flight (at most maxPending of them).
    do {
      this.nextId = this.nextId >= MAX_REQUEST_ID ? 1 : this.nextId + 1;
    } while (this.pending.has(this.nextId));
    return this.nextId;
  }
}
