/** The gateway config's mqtt section and the `--mqtt-listen` / `--mqtt-url` overrides of `gateway start`. */
import { describe, expect, it } from 'vitest';
import { withMqttOverride } from '../../../../gateway/cli/gateway.js';
import { defaultConsensusOptions } from '../../../../gateway/consensus/options.js';
import { defaultMempoolOptions } from '../../../../gateway/mempool/options.js';
import { ConfigError, type GatewayConfig, parseGatewayConfig } from '../../../../gateway/node/config.js';

const base = { dataDir: 'data', genesis: 'genesis.cbor', key: 'validator.key.json' };
const parse = (mqtt: unknown) =>
  parseGatewayConfig({ ...base, mqtt }, '/etc/iosnet', {
    consensus: defaultConsensusOptions,
    mempool: defaultMempoolOptions,
  });

describe('config mqtt', () => {
  it('accepts an embedded broker, or an external one with its Mosquitto files (resolved paths)', () => {
    expect(parse({ listen: '127.0.0.1:1883' }).mqtt).toEqual({ listen: '127.0.0.1:1883' });
    expect(
      parse({
        url: 'mqtt://broker:1883',
        username: 'gw',
        password: 'pw',
        passwordFile: 'mosquitto/passwd',
        aclFile: '/etc/mosquitto/acl',
        pidFile: 'mosquitto.pid',
      }).mqtt,
    ).toEqual({
      url: 'mqtt://broker:1883',
      username: 'gw',
      password: 'pw',
      passwordFile: '/etc/iosnet/mosquitto/passwd',
      aclFile: '/etc/mosquitto/acl',
      pidFile: '/etc/iosnet/mosquitto.pid',
    });
  });

  it('refuses both or neither mode, half the files, files without a url, bad values', () => {
    for (const bad of [
      {},
      { listen: '127.0.0.1:1', url: 'mqtt://x:1' },
      { url: 'mqtt://x:1', passwordFile: 'p' },
      { listen: '127.0.0.1:1', passwordFile: 'p', aclFile: 'a' },
      { listen: 'nope' },
      { url: 'http://x' },
      { url: 'mqtt://x:1', username: 5 },
      { listen: '127.0.0.1:1', extra: true },
    ]) {
      expect(() => parse(bad), JSON.stringify(bad)).toThrow(ConfigError);
    }
  });
});

describe('gateway start --mqtt-listen / --mqtt-url', () => {
  const config = parse({ url: 'mqtt://broker:1883', username: 'gw', password: 'pw' }) as GatewayConfig;
  it('replaces the mode and keeps the credentials', () => {
    expect(withMqttOverride(config, '0.0.0.0:1883').mqtt).toEqual({
      listen: '0.0.0.0:1883',
      username: 'gw',
      password: 'pw',
    });
    expect(withMqttOverride(config, undefined, 'mqtt://other:1884').mqtt).toEqual({
      url: 'mqtt://other:1884',
      username: 'gw',
      password: 'pw',
    });
    expect(withMqttOverride(config)).toBe(config);
  });
  it('refuses both, and bad values', () => {
    expect(() => withMqttOverride(config, '0.0.0.0:1', 'mqtt://x:1')).toThrow(/at most one/);
    expect(() => withMqttOverride(config, 'nope')).toThrow();
    expect(() => withMqttOverride(config, undefined, 'http://x')).toThrow(/mqtt:\/\//);
  });
});
