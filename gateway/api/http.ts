/**
 * The HTTP plumbing of the API (node:http, no framework): a route table matched by method and path
 * pattern, bounded request bodies, JSON and binary responses, and one error shape. Handlers are plain
 * functions of a parsed request; they never see the socket.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.js';

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Media type without parameters, lowercase ('' when absent). */
  readonly contentType: string;
  /** The body, for routes that declare `maxBody`. */
  readonly body: Uint8Array;
}

export type ApiResponse =
  | { readonly status?: number; readonly json: unknown }
  | { readonly status?: number; readonly bytes: Uint8Array; readonly contentType: string }
  | { readonly status?: number; readonly text: string; readonly contentType: string };

export interface Route {
  readonly method: 'GET' | 'POST';
  /** '/blocks/:height': literal segments and named parameters. */
  readonly pattern: string;
  /** Routes that take a body declare its bound (bytes); others refuse a body. */
  readonly maxBody?: number;
  handle(req: ApiRequest): ApiResponse | Promise<ApiResponse>;
}

interface CompiledRoute extends Route {
  readonly segments: readonly string[];
}

export function compileRoutes(routes: readonly Route[]): CompiledRoute[] {
  return routes.map((r) => ({ ...r, segments: r.pattern.split('/').slice(1) }));
}

/** The routes whose pattern matches the path, with their parameters (a literal segment beats a parameter). */
export function matchPath(
  routes: readonly CompiledRoute[],
  path: string,
): { route: CompiledRoute; params: Record<string, string> }[] {
  const parts = path.split('/').slice(1);
  const out: { route: CompiledRoute; params: Record<string, string>; literals: number }[] = [];
  for (const route of routes) {
    if (route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const seg = route.segments[i]!;
      const part = parts[i]!;
      if (seg.startsWith(':')) {
        if (part === '') ok = false;
        else params[seg.slice(1)] = part;
      } else if (seg === part) literals++;
      else ok = false;
    }
    if (ok) out.push({ route, params, literals });
  }
  return out.sort((a, b) => b.literals - a.literals);
}

/** Reads a body of at most `max` bytes; refuses a larger one as soon as it is known to be larger. */
export function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > max) {
    return Promise.reject(tooLarge(max));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > max) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(max));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(new Uint8Array(Buffer.concat(chunks)));
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
    });
  });
}

function tooLarge(max: number): ApiError {
  return new ApiError(413, 'BODY_TOO_LARGE', `request body exceeds ${max} bytes`, { max });
}

/** JSON with bytes as lowercase hex and bigints as decimal strings (amounts above 2^53 stay exact). */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
    return v;
  });
}

export function send(res: ServerResponse, response: ApiResponse): number {
  const status = response.status ?? 200;
  let body: string | Uint8Array;
  let type: string;
  if ('json' in response) {
    body = toJsonText(response.json);
    type = 'application/json; charset=utf-8';
  } else if ('bytes' in response) {
    body = response.bytes;
    type = response.contentType;
  } else {
    body = response.text;
    type = response.contentType;
  }
  res.writeHead(status, {
    'content-type': type,
    'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
    'cache-control': 'no-store',
  });
  res.end(body);
  return status;
}

export function sendError(res: ServerResponse, err: ApiError, headers: Record<string, string> = {}): number {
  if (res.headersSent) {
    res.destroy();
    return err.status;
  }
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  return send(res, { status: err.status, json: { error: { code: err.code, message: err.message } } });
}
