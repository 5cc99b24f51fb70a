/** True when a database error is a unique-constraint violation, on SQLite or PostgreSQL. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** True when PostgreSQL undid a transaction to break a deadlock (40P01) or a serialization conflict (40001): trying again may succeed. */
export function isTransactionConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

// The network's word that the database cannot be reached (raised by pg's socket).
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// PostgreSQL's: SQLSTATE class 08 (connection exception), a statement cancelled by statement_timeout,
// shutting down or starting up, too many connections.
const UNAVAILABLE_SQLSTATES = /^(08...|57014|57P0[123]|53300)$/;
// SQLite's: another process held the database locked past busy_timeout.
const SQLITE_BUSY = /^SQLITE_(BUSY|LOCKED)(_|$)/;
// pg's own errors for a lost connection carry no code; knex puts the SQL before the message, so no anchor.
const CONNECTION_LOST = /Connection terminated|is not queryable/;
// pg's client-side timeouts on a silent network: no answer to a query (query_timeout), no handshake (connectionTimeoutMillis).
const NO_ANSWER = /(Query read timeout|timeout expired)$/;

/**
 * True when a database error means the database is unreachable, refusing
 * connections or silent (a pool that could not connect in time and a query
 * that got no answer in time included): the request may succeed later, so it
 * is a 503, not a fault of tessera's.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || UNAVAILABLE_SQLSTATES.test(code) || SQLITE_BUSY.test(code))) return true;
  return error.name === 'KnexTimeoutError' || CONNECTION_LOST.test(error.message) || NO_ANSWER.test(error.message);
}
