/**
 * Structured logging: one JSON line per entry on stderr, with bound context (stage, trace id).
 * Secrets never reach here: callers log ids and counts, not payloads or credentials.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

function levelFromEnv(): Level {
  const v = process.env.LENSGRAPH_LOG_LEVEL;
  return v === 'debug' || v === 'warn' || v === 'error' ? v : 'info';
}

export function createLogger(bound: Record<string, unknown> = {}, min: Level = levelFromEnv()): Logger {
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < ORDER[min]) return;
    const entry = { t: new Date().toISOString(), level, msg, ...bound, ...fields };
    process.stderr.write(`${JSON.stringify(entry, errorReplacer)}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (f) => createLogger({ ...bound, ...f }, min),
  };
}

/**
 * An error as a log field: its name and message, and the codes that tell an operator what happened: our
 * error code, and the database's code an AppError was mapped from (`Neo.TransientError…`). Nothing else
 * of the object (a driver error also carries the statement's parameters).
 */
export function errorReplacer(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const out: { name: string; message: string; code?: string; cause?: string } = {
    name: value.name,
    message: value.message,
  };
  const { code } = value as { code?: unknown };
  if (typeof code === 'string') out.code = code;
  const cause = (value as { details?: { cause?: unknown } }).details?.cause;
  if (typeof cause === 'string') out.cause = cause;
  return out;
}

export const log = createLogger();
