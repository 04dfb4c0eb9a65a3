/**
 * A small client of the gateway API (docs/api.md) for the CLI, the load generator and the devnet's status
 * screen. Failures are IosnetErrors: GATEWAY_UNREACHABLE / GATEWAY_TIMEOUT / GATEWAY_BAD_RESPONSE for the
 * transport, and the API's own code (MEMPOOL_NONCE_TOO_LOW, INVALID_HEX, ...) when the gateway refused.
 */
import { toHex } from '../../core/bytes.js';
import { CborWriter } from '../../core/cbor.js';
import { IosnetError } from '../../core/errors.js';

export type GatewayClientErrorCode = 'GATEWAY_UNREACHABLE' | 'GATEWAY_TIMEOUT' | 'GATEWAY_BAD_RESPONSE';

export interface AccountView {
  readonly height: number;
  readonly exists: boolean;
  readonly balance: bigint;
  readonly nonce: number;
  readonly staked: bigint;
  readonly unbonding: bigint;
  readonly locked: bigint;
}

export interface TxView {
  readonly id: string;
  readonly status: 'unknown' | 'pending' | 'grade1' | 'grade2';
  readonly height?: number;
  readonly index?: number;
  readonly proof?: string;
}

export type SubmitResult =
  | { readonly id: string; readonly status: 'pending' }
  | { readonly error: ApiErrorBody };

export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
}

export interface LatencyView {
  readonly p50: number | null;
  readonly p99: number | null;
  readonly samples: number;
}

export interface CommitteeMemberView {
  readonly index: number;
  readonly blsPublicKey: string;
  readonly owner: string | null;
  readonly weight: number;
  readonly league: boolean;
  readonly believability: string;
  readonly stake: string;
  readonly servi: number;
  readonly reputationPpm: string;
  readonly reviewPpm: string;
  readonly behaviourPpm: string;
  readonly done: number;
  readonly missed: number;
  readonly slashed: boolean;
}

export interface StatusView {
  readonly chainId: string;
  readonly genesisHash: string;
  readonly nodeId: string;
  readonly height: number;
  readonly finalizedHeight: number;
  readonly view: number;
  readonly epoch: number;
  readonly latestStateBlock: number | null;
  readonly mempool: { readonly size: number; readonly bytes: number };
  readonly peers: readonly {
    readonly peerId: string;
    readonly remoteAddress: string;
    readonly inbound: boolean;
  }[];
  readonly txPerSecond: number;
  readonly latencyMs: { readonly grade1: LatencyView; readonly grade2: LatencyView };
  readonly committee: readonly CommitteeMemberView[];
}

/** "http://host:port", or "host:port" (http assumed); no path. */
export function gatewayUrl(text: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new IosnetError('GATEWAY_URL_INVALID', `not a gateway URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new IosnetError('GATEWAY_URL_INVALID', `gateway URL must be http(s): ${text}`);
  return `${url.protocol}//${url.host}`;
}

/** A CBOR array whose items are the transactions' exact encodings (POST /txs/batch). */
export function encodeTxBatch(txs: readonly Uint8Array[]): Uint8Array {
  const w = new CborWriter(txs.reduce((n, t) => n + t.length, 16));
  w.array(txs.length);
  for (const t of txs) w.raw(t);
  return w.finish();
}

export class GatewayClient {
  readonly base: string;
  constructor(
    url: string,
    private readonly opts: { readonly timeoutMs: number } = { timeoutMs: 10_000 },
  ) {
    this.base = gatewayUrl(url);
  }

  private async request(path: string, init: RequestInit = {}): Promise<unknown> {
    const url = `${this.base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.opts.timeoutMs) });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      if (err.name === 'TimeoutError' || err.name === 'AbortError') {
        throw new IosnetError<GatewayClientErrorCode>(
          'GATEWAY_TIMEOUT',
          `${this.base} did not answer within ${this.opts.timeoutMs} ms`,
        );
      }
      const why = err.cause?.code ?? err.message;
      throw new IosnetError<GatewayClientErrorCode>(
        'GATEWAY_UNREACHABLE',
        `cannot reach ${this.base} (${why})`,
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new IosnetError<GatewayClientErrorCode>(
        'GATEWAY_BAD_RESPONSE',
        `${url}: HTTP ${res.status} with a body that is not JSON`,
      );
    }
    if (!res.ok) {
      const error = (json as { error?: ApiErrorBody }).error;
      throw new IosnetError(error?.code ?? 'GATEWAY_BAD_RESPONSE', error?.message ?? `HTTP ${res.status}`, {
        status: res.status,
      });
    }
    return json;
  }

  /** latencySince (gateway clock, Unix ms): latency percentiles over the samples since then only. */
  status(opts: { latencySince?: number } = {}): Promise<StatusView> {
    const q = opts.latencySince === undefined ? '' : `?latencySince=${Math.floor(opts.latencySince)}`;
    return this.request(`/status${q}`) as Promise<StatusView>;
  }

  /** The account at the latest final height (what the next nonce is read from). */
  async account(address: Uint8Array): Promise<AccountView> {
    const j = (await this.request(`/accounts/${toHex(address)}?at=latest`)) as {
      height: number;
      exists: boolean;
      account: Record<string, string | number>;
    };
    const a = j.account;
    return {
      height: j.height,
      exists: j.exists,
      balance: BigInt(a.balance!),
      nonce: Number(a.nonce),
      staked: BigInt(a.staked!),
      unbonding: BigInt(a.unbonding!),
      locked: BigInt(a.locked!),
    };
  }

  async submitTx(bytes: Uint8Array): Promise<{ id: string; status: 'pending' }> {
    return (await this.request('/txs', {
      method: 'POST',
      headers: { 'content-type': 'application/cbor' },
      body: bytes,
    })) as { id: string; status: 'pending' };
  }

  async submitBatch(txs: readonly Uint8Array[]): Promise<readonly SubmitResult[]> {
    const j = (await this.request('/txs/batch', {
      method: 'POST',
      headers: { 'content-type': 'application/cbor' },
      body: encodeTxBatch(txs),
    })) as { results: SubmitResult[] };
    return j.results;
  }

  tx(id: string): Promise<TxView> {
    return this.request(`/txs/${id}`) as Promise<TxView>;
  }

  supply(): Promise<{ height: number; totalSupply: string; expected: string; intact: boolean }> {
    return this.request('/supply') as Promise<{
      height: number;
      totalSupply: string;
      expected: string;
      intact: boolean;
    }>;
  }
}
