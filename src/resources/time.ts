import { z } from 'zod';

// RFC 3339 §5.6 has four-digit years: an offset must not carry a time out of 0000–9999 in UTC.
const EARLIEST = Date.parse('0000-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/** RFC 3339 with an offset (or Z) in, epoch ms stored: every time is UTC at rest. */
export const rfc3339 = z.iso
  .datetime({ offset: true })
  .transform((value) => Date.parse(value))
  .refine((ms) => ms >= EARLIEST && ms <= LATEST, 'must be between years 0000 and 9999 in UTC');

// Lists show the same rows again and again, and formatting a date costs
// some twenty times a map lookup; the bound keeps the memo small.
const FORMATTED_LIMIT = 10_000;
const formatted = new Map<number, string>();

/** Epoch ms out as an RFC 3339 UTC string. */
export function iso(ms: number): string {
  let text = formatted.get(ms);
  if (text === undefined) {
    if (formatted.size >= FORMATTED_LIMIT) formatted.clear();
    text = new Date(ms).toISOString();
    formatted.set(ms, text);
  }
  return text;
}
export const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** How a time appears in responses (for the OpenAPI document). */
export const timeOut = z.iso.datetime();
