// U+0000, which PostgreSQL refuses in text columns, and lone surrogates, which
// UTF-8 cannot encode (with the `u` flag, \p{Cs} matches unpaired ones only).
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /[\u0000\p{Cs}]/u;

/**
 * True when every string in a parsed JSON or form value (keys included) can
 * be stored and read back exactly as sent. Iterative, so deeply nested
 * input cannot overflow the stack.
 */
export function isStorableText(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (UNSTORABLE.test(item)) return false;
    } else if (item !== null && typeof item === 'object') {
      for (const [key, nested] of Object.entries(item)) pending.push(key, nested);
    }
  }
  return true;
}
