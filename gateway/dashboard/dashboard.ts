/**
 * The dashboard served by the gateway's own HTTP server (docs/operator.md §Dashboard): a static page and
 * script from this folder (no CDN, no build step: plain JS that draws its plots on <canvas>), the live
 * event stream `GET /events`, and `GET /devices` (one page of the registered devices). Drill-down views
 * use the JSON API routes that already exist (/blocks, /txs, /accounts, /devices/:id).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../api/errors.js';
import type { ApiRequest, ApiResponse, Route } from '../api/http.js';
import type { ApiNode } from '../api/interface.js';
import { onlyQuery, uintParam } from '../api/params.js';
import { DeviceDirectory, type DeviceSightings } from './devices.js';
import { DashboardFeed, type DashboardOptions, defaultDashboardOptions } from './feed.js';
import { defaultEventStreamOptions, EventStreamHub, type EventStreamOptions } from './sse.js';

/** Rows per GET /devices page at most: a page of 500 is ~150 KB of JSON. */
export const MAX_DEVICE_PAGE = 500;
export const DEFAULT_DEVICE_PAGE = 50;

const asset = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');

export interface Dashboard {
  readonly routes: readonly Route[];
  readonly feed: DashboardFeed;
  readonly hub: EventStreamHub;
  /** GET /events: takes over the response (it stays open). Throws ApiError before writing anything. */
  events(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void;
  close(): void;
}

export function createDashboard(
  node: ApiNode & { readonly deviceSightings?: DeviceSightings },
  options: { dashboard?: Partial<DashboardOptions>; stream?: Partial<EventStreamOptions> } = {},
): Dashboard {
  const hub = new EventStreamHub({ ...defaultEventStreamOptions, ...options.stream });
  const devices = new DeviceDirectory({
    crypto: node.crypto,
    state: node.state,
    ...(node.deviceSightings ? { sightings: node.deviceSightings } : {}),
    latestStateBlock: () => node.store.latestStateBlock()?.index ?? null,
  });
  const feed = new DashboardFeed(
    { ...defaultDashboardOptions, ...options.dashboard },
    { node, hub, devices },
  );
  // Read once: the page is part of the gateway's code, not something an operator edits at run time.
  const html = asset('page.html');
  const script = asset('app.js');
  // Sampling starts with the server, so a page opened later still gets the last minutes of its plots.
  feed.start();
  const page = (req: ApiRequest): ApiResponse => {
    onlyQuery(req.query, {});
    return { text: html, contentType: 'text/html; charset=utf-8' };
  };

  const routes: Route[] = [
    { method: 'GET', pattern: '/', handle: page },
    { method: 'GET', pattern: '/dashboard', handle: page },
    {
      method: 'GET',
      pattern: '/dashboard/app.js',
      handle: () => ({ text: script, contentType: 'text/javascript; charset=utf-8' }),
    },
    // GET /events is served by `events` below (the server hands it the socket); this entry only makes the
    // route known, so other methods get 405 and the request counter a bounded label.
    {
      method: 'GET',
      pattern: '/events',
      handle: () => {
        throw new ApiError(500, 'INTERNAL', 'event stream not routed');
      },
    },
    {
      method: 'GET',
      pattern: '/devices',
      handle: (req) => {
        let offset = 0;
        let limit = DEFAULT_DEVICE_PAGE;
        for (const [k, v] of req.query) {
          if (k === 'offset') offset = uintParam(v, k);
          else if (k === 'limit') {
            limit = uintParam(v, k, 1);
            if (limit > MAX_DEVICE_PAGE) {
              throw new ApiError(400, 'INVALID_PARAM', `limit must be at most ${MAX_DEVICE_PAGE}`, {
                param: k,
              });
            }
          } else throw new ApiError(400, 'INVALID_PARAM', `unknown query parameter ${k}`, { param: k });
        }
        return { json: devices.page(offset, limit) };
      },
    },
  ];

  return {
    routes,
    feed,
    hub,
    events(req, res, query) {
      // ?series=0: the snapshot without the plotted history (for scripts that only follow ticks).
      onlyQuery(query, { series: ['0', '1'] });
      if (hub.full) throw new ApiError(503, 'UNAVAILABLE', 'too many dashboard streams open; retry later');
      req.resume();
      hub.attach(res, [feed.snapshot(query.get('series') !== '0')]);
    },
    close() {
      feed.stop();
      hub.close();
    },
  };
}
