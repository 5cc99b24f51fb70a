import { z } from 'zod';

/** A conversation id: chosen by clients (AxIA's session ids), so kept plain. */
export const sessionIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1–64 of letters, digits, "_", ".", ":" and "-"');
export const MAX_CONTENT_BYTES = 16 * 1024;

/** A message body as REST and the socket accept it. */
export const messageInput = {
  content: z.string().min(1).refine((value) => Buffer.byteLength(value) <= MAX_CONTENT_BYTES, 'must be at most 16 KiB'),
  type: z.string().regex(/^[a-z0-9_.-]{1,32}$/).default('text'),
  nonce: z.string().min(1).max(128).optional(),
};

export const messageJson = z.object({
  id: z.string(),
  session_id: z.string(),
  seq: z.number().int(),
  sender: z.string(),
  role: z.enum(['user', 'assistant', 'system']),
  type: z.string(),
  content: z.string(),
  timestamp: z.iso.datetime(),
});
