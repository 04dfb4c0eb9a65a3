/**
 * The gateway's HTTP JSON API (docs/api.md): node:http, one route table, typed JSON errors. Every request
 * is counted in iosnet_api_requests_total by route pattern (bounded label values: unknown paths count as
 * "unmatched"). Reads run synchronously against the node's state within one turn of the event loop, so a
 * response never mixes two heights.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDashboard } from '../dashboard/dashboard.js';
import { listen as listenOn } from '../util/listen.js';
import { ApiError, notFound, toApiError } from './errors.js';
import { type ApiRequest, compileRoutes, matchPath, type Route, readBody, send, sendError } from './http.js';
import type { ApiNode, ApiServer } from './interface.js';
import { type ApiOptions, defaultApiOptions } from './options.js';
import { getBlock } from './routes/blocks.js';
import { getAccount, getDevice, getFile, getStateBlock, getSupply } from './routes/state.js';
import { status } from './routes/status.js';
import { getTx, postTx, postTxBatch } from './routes/txs.js';

export function apiRoutes(node: ApiNode, opts: ApiOptions): Route[] {
  return [
    { method: 'GET', pattern: '/status', handle: (req) => ({ json: status(node, req.query) }) },
    { method: 'GET', pattern: '/blocks/:height', handle: (req) => getBlock(node, req) },
    { method: 'GET', pattern: '/accounts/:address', handle: (req) => getAccount(node, req) },
    { method: 'GET', pattern: '/devices/:identityHash', handle: (req) => getDevice(node, req) },
    { method: 'GET', pattern: '/files/:fileRoot', handle: (req) => getFile(node, req) },
    { method: 'GET', pattern: '/state-blocks/:index', handle: (req) => getStateBlock(node, req) },
    { method: 'GET', pattern: '/supply', handle: (req) => getSupply(node, req) },
    { method: 'GET', pattern: '/txs/:id', handle: (req) => getTx(node, req) },
    { method: 'POST', pattern: '/txs', maxBody: opts.maxTxBodyBytes, handle: (req) => postTx(node, req) },
    {
      method: 'POST',
      pattern: '/txs/batch',
      maxBody: opts.maxBatchBodyBytes,
      handle: (req) => postTxBatch(node, req, opts.maxBatchTxs),
    },
    {
      method: 'GET',
      pattern: '/metrics',
      handle: async () => ({ text: await node.metrics.render(), contentType: node.metrics.contentType }),
    },
  ];
}

export async function startApiServer(
  node: ApiNode,
  listen: { host: string; port: number },
  options: Partial<ApiOptions> = {},
): Promise<ApiServer> {
  const opts: ApiOptions = { ...defaultApiOptions, ...options };
  // The dashboard page, its device list and its event stream share this server (gateway/dashboard).
  const dashboard = createDashboard(node);
  const routes = compileRoutes([...apiRoutes(node, opts), ...dashboard.routes]);
  const log = node.log.child('api');

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let route = 'unmatched';
    let code = 0;
    try {
      const url = new URL(req.url ?? '/', 'http://gateway');
      const method = req.method ?? 'GET';
      if (url.pathname === '/events' && method === 'GET') {
        // A stream, not a response: the dashboard takes the socket over (or throws a typed error first).
        route = '/events';
        dashboard.events(req, res, url.searchParams);
        code = 200;
        return;
      }
      const matches = matchPath(routes, url.pathname);
      if (matches.length === 0) throw notFound(`no route ${url.pathname}`);
      const match = matches.find((m) => m.route.method === method);
      if (!match) {
        const allow = [...new Set(matches.map((m) => m.route.method))].join(', ');
        code = sendError(
          res,
          new ApiError(405, 'METHOD_NOT_ALLOWED', `${method} ${url.pathname}: allowed ${allow}`),
          { allow },
        );
        route = matches[0]!.route.pattern;
        return;
      }
      route = match.route.pattern;
      const body =
        match.route.maxBody !== undefined ? await readBody(req, match.route.maxBody) : new Uint8Array();
      if (match.route.maxBody === undefined) req.resume();
      const request: ApiRequest = {
        method,
        path: url.pathname,
        params: match.params,
        query: url.searchParams,
        contentType: (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase(),
        body,
      };
      code = send(res, await match.route.handle(request));
    } catch (e) {
      const err = toApiError(e);
      if (err.status >= 500 && err.code === 'INTERNAL') {
        log.error('request failed', { url: req.url, error: e instanceof Error ? e.message : String(e) });
      }
      // A refused oversize body is not read to its end: close the connection rather than drain it.
      code = sendError(res, err, err.code === 'BODY_TOO_LARGE' ? { connection: 'close' } : {});
    } finally {
      node.metrics.observeApiRequest(route, code || res.statusCode);
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.requestTimeout = opts.requestTimeoutMs;
  server.headersTimeout = Math.min(opts.requestTimeoutMs, 60_000);
  await listenOn(server, listen.port, listen.host, 'api', 'api.listen');
  server.on('error', (e) => log.warn('api server error', { error: e.message }));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    async close() {
      // The gossip belongs to the node (it closes it after the API): other servers may share it.
      dashboard.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
