/**
 * Namespaced logging for every gateway subsystem, in the style of js-libp2p's `logger('libp2p:tcp')`.
 * Components take a Logger as a dependency, so tests capture records instead of parsing stderr.
 *   - `logger(ns)`: debug output on stderr when the DEBUG environment variable names the namespace
 *     (`DEBUG=iosnet:network`, `DEBUG=iosnet:*`, comma-separated); what libraries and tests use.
 *   - `jsonLogger(ns, level)`: the node's structured logs, one JSON object per line on stderr
 *     ({"time","level","ns","msg",...data}) at or above a level (docs/operator.md §Logs).
 */

export type LogData = Readonly<Record<string, unknown>>;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  readonly namespace: string;
  /** Routine events: connections, handshakes, drops. */
  debug(message: string, data?: LogData): void;
  /** What an operator wants in the normal log: a block finalized, a peer joined, the node started. */
  info(message: string, data?: LogData): void;
  /** Something an operator should look at (a listener error, a handler that threw). */
  warn(message: string, data?: LogData): void;
  /** The node cannot do its job (a divergence, a storage failure). */
  error(message: string, data?: LogData): void;
  /** The same sink under `namespace:suffix`. */
  child(suffix: string): Logger;
}

export interface LogRecord {
  readonly namespace: string;
  readonly level: LogLevel;
  readonly message: string;
  readonly data: LogData | undefined;
}

export type LogSink = (record: LogRecord) => void;

/** A logger that hands every record to `sink`. */
export function createLogger(namespace: string, sink: LogSink): Logger {
  return {
    namespace,
    debug: (message, data) => sink({ namespace, level: 'debug', message, data }),
    info: (message, data) => sink({ namespace, level: 'info', message, data }),
    warn: (message, data) => sink({ namespace, level: 'warn', message, data }),
    error: (message, data) => sink({ namespace, level: 'error', message, data }),
    child: (suffix) => createLogger(`${namespace}:${suffix}`, sink),
  };
}

const noop = () => {};

/** Drops everything (the default). */
export function silentLogger(namespace = 'iosnet:network'): Logger {
  return {
    namespace,
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    child: (s) => silentLogger(`${namespace}:${s}`),
  };
}

/** `debug`-package matching: `a:b` matches pattern `a:b` or `a:*`; `-pattern` excludes. */
export function namespaceEnabled(namespace: string, patterns: string | undefined): boolean {
  if (!patterns) return false;
  let enabled = false;
  for (const raw of patterns.split(/[\s,]+/)) {
    if (!raw) continue;
    const exclude = raw.startsWith('-');
    const p = exclude ? raw.slice(1) : raw;
    const re = new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    if (re.test(namespace)) {
      if (exclude) return false;
      enabled = true;
    }
  }
  return enabled;
}

function stderrSink(record: LogRecord): void {
  const data = record.data === undefined ? '' : ` ${JSON.stringify(record.data, jsonSafe)}`;
  process.stderr.write(`${new Date().toISOString()} ${record.namespace} ${record.message}${data}\n`);
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** Writes to stderr when DEBUG enables the namespace (each child re-checks its own name); silent otherwise. */
export function logger(namespace: string, env: string | undefined = process.env.DEBUG): Logger {
  const on = namespaceEnabled(namespace, env);
  return {
    namespace,
    debug: on ? (message, data) => stderrSink({ namespace, level: 'debug', message, data }) : noop,
    info: on ? (message, data) => stderrSink({ namespace, level: 'info', message, data }) : noop,
    warn: on ? (message, data) => stderrSink({ namespace, level: 'warn', message, data }) : noop,
    error: on ? (message, data) => stderrSink({ namespace, level: 'error', message, data }) : noop,
    child: (suffix) => logger(`${namespace}:${suffix}`, env),
  };
}

/** JSON lines on `write` (stderr by default) for records at or above `level`; DEBUG adds debug records. */
export function jsonLogger(
  namespace: string,
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
  env: string | undefined = process.env.DEBUG,
): Logger {
  return createLogger(namespace, (r) => {
    if (LEVELS[r.level] < LEVELS[level] && !(r.level === 'debug' && namespaceEnabled(r.namespace, env)))
      return;
    const record = {
      time: new Date().toISOString(),
      level: r.level,
      ns: r.namespace,
      msg: r.message,
      ...r.data,
    };
    write(`${JSON.stringify(record, jsonSafe)}\n`);
  });
}
