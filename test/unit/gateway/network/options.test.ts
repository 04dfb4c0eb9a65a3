/** Network options, endpoints, the logger's namespace matching and the redial backoff. */
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../../../core/errors.js';
import {
  createLogger,
  type LogRecord,
  namespaceEnabled,
  silentLogger,
} from '../../../../gateway/log/logger.js';
import { backoffDelay } from '../../../../gateway/network/dialer.js';
import {
  defaultNetworkOptions,
  parseEndpoint,
  resolveNetworkOptions,
} from '../../../../gateway/network/options.js';

describe('network options', () => {
  it('defaults', () => {
    const o = resolveNetworkOptions();
    expect(o).toEqual(defaultNetworkOptions);
    expect(o).toMatchObject({
      listenHost: '127.0.0.1',
      listenPort: 0,
      peers: [],
      maxFrameBytes: 16 * 1024 * 1024,
      handshakeTimeoutMs: 5000,
      allowedPeers: null,
    });
    expect(o.rateLimit.bytesBurst).toBeGreaterThanOrEqual(o.maxFrameBytes + 4);
    expect(o.maxOutboundQueueBytes).toBeGreaterThanOrEqual(o.maxFrameBytes + 4);
  });

  it('merges nested rate limits and checks every option by name', () => {
    expect(resolveNetworkOptions({ rateLimit: { messagesPerSecond: 7 } }).rateLimit).toMatchObject({
      messagesPerSecond: 7,
      messagesBurst: defaultNetworkOptions.rateLimit.messagesBurst,
    });
    const bad: [object, RegExp][] = [
      [{ listenPort: 70000 }, /listenPort/],
      [{ listenHost: '' }, /listenHost/],
      [{ peers: ['localhost'] }, /endpoint/],
      [{ maxFrameBytes: 10 }, /maxFrameBytes/],
      [{ rateLimit: { messagesPerSecond: 0 } }, /messagesPerSecond/],
      [{ rateLimit: { bytesBurst: 100 } }, /bytesBurst/],
      [{ reconnectMinMs: 100, reconnectMaxMs: 50 }, /reconnectMaxMs/],
      [{ maxOutboundQueueBytes: 1000 }, /maxOutboundQueueBytes/],
      [{ allowedPeers: ['ABC'] }, /allowedPeers/],
      [{ maxFramesPerKey: 0 }, /maxFramesPerKey/],
    ];
    for (const [input, message] of bad) {
      expect(() => resolveNetworkOptions(input)).toThrow(ArgumentError);
      expect(() => resolveNetworkOptions(input)).toThrow(message);
    }
    expect(
      resolveNetworkOptions({ rateLimit: { messagesPerSecond: Number.POSITIVE_INFINITY } }),
    ).toBeDefined();
  });

  it('parses endpoints', () => {
    expect(parseEndpoint('127.0.0.1:7001')).toEqual({ host: '127.0.0.1', port: 7001 });
    expect(parseEndpoint('gw-1.example:65535')).toEqual({ host: 'gw-1.example', port: 65535 });
    expect(parseEndpoint('[::1]:80')).toEqual({ host: '::1', port: 80 });
    for (const bad of ['', 'host', 'host:0', 'host:65536', '::1:80', 'a:b:1', 'host:-1']) {
      expect(() => parseEndpoint(bad)).toThrow(ArgumentError);
    }
  });
});

describe('logger', () => {
  it('matches DEBUG patterns like the debug package', () => {
    expect(namespaceEnabled('iosnet:network', undefined)).toBe(false);
    expect(namespaceEnabled('iosnet:network', 'iosnet:network')).toBe(true);
    expect(namespaceEnabled('iosnet:network', 'iosnet:*')).toBe(true);
    expect(namespaceEnabled('iosnet:network', 'iosnet:*,-iosnet:network')).toBe(false);
    expect(namespaceEnabled('iosnet:network', 'iosnet:consensus')).toBe(false);
    expect(namespaceEnabled('iosnet:network.x', 'iosnet:network')).toBe(false);
  });

  it('hands structured records to a sink, children under sub-namespaces', () => {
    const records: LogRecord[] = [];
    const log = createLogger('iosnet:network', (r) => records.push(r));
    log.child('tcp').debug('hello', { a: 1 });
    log.warn('careful');
    expect(records).toEqual([
      { namespace: 'iosnet:network:tcp', level: 'debug', message: 'hello', data: { a: 1 } },
      { namespace: 'iosnet:network', level: 'warn', message: 'careful', data: undefined },
    ]);
    silentLogger().child('x').debug('nothing');
  });
});

describe('backoffDelay', () => {
  it('doubles from min, caps at max, jitters over [d/2, d]', () => {
    expect(backoffDelay(0, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(0, 100, 10_000, () => 0.999999)).toBeCloseTo(100, 2);
    expect(backoffDelay(3, 100, 10_000, () => 1)).toBe(800);
    expect(backoffDelay(20, 100, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(5000, 100, 10_000, () => 0.5)).toBe(7500);
  });
});
