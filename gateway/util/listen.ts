/**
 * Binding a gateway's listeners (p2p, API, MQTT). A port that cannot be bound is an operator's problem to fix
 * in the config, so it is a typed error naming the listener, the address and the config key, not a bare
 * `listen EADDRINUSE`.
 */
import type { Server } from 'node:net';
import { IosnetError } from '../../core/errors.js';

export type ListenErrorCode = 'LISTEN_ADDRESS_IN_USE' | 'LISTEN_FAILED';

/** Listens on host:port; rejects with LISTEN_ADDRESS_IN_USE or LISTEN_FAILED (what: e.g. "api", key: "api.listen"). */
export function listen(server: Server, port: number, host: string, what: string, key: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const at = `${host}:${port}`;
      const inUse = e.code === 'EADDRINUSE';
      reject(
        new IosnetError<ListenErrorCode>(
          inUse ? 'LISTEN_ADDRESS_IN_USE' : 'LISTEN_FAILED',
          inUse
            ? `${what}: ${at} is already in use (set another port in ${key})`
            : `${what}: cannot listen on ${at} (${e.code ?? e.message})`,
          { what, host, port },
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
