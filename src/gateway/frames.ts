import { z } from 'zod';
import { MAX_PROOF_LENGTH } from '../auth/dpop';
import type { Message } from '../messages/message';
import { messageInput, sessionIdSchema } from '../messages/message-input';
import { prepareText, type PreparedFrame } from './socket-writes';

/** Client → server frames (SPEC §6). The message's own type travels as `message_type`: `type` names the frame. */
export const clientFrame = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('message'),
    session_id: sessionIdSchema,
    content: messageInput.content,
    message_type: messageInput.type,
    nonce: messageInput.nonce,
  }),
  z.object({ type: z.literal('resume'), session_id: sessionIdSchema, after_seq: z.number().int().min(0) }),
  // `dpop`: a proof for the socket's URL with the new token's ath, when the token is DPoP-bound (SPEC §11).
  z.object({ type: z.literal('auth'), token: z.string().min(1).max(8192), dpop: z.string().min(1).max(2 * MAX_PROOF_LENGTH).optional() }),
  z.object({ type: z.literal('ping') }),
]);

export type ClientFrame = z.output<typeof clientFrame>;

/** Close codes of SPEC §6. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  tooBig: 1009,
  tryAgainLater: 1013,
  tokenExpired: 4001,
  revoked: 4003,
} as const;

const encoded = new WeakMap<Message, string>();

/** A message's JSON, made once however many frames carry it. */
function messageJson(message: Message): string {
  let json = encoded.get(message);
  if (json === undefined) encoded.set(message, (json = JSON.stringify(message)));
  return json;
}

/** `{"type":"message","message":…}`, framed once for every socket it is delivered to. */
export const deliveryFrame = (message: Message): PreparedFrame => prepareText(`{"type":"message","message":${messageJson(message)}}`);

/** `{"type":"ack","nonce","message"}` for the socket that sent it. */
export const ackFrame = (nonce: string | undefined, message: Message): string => `{"type":"ack","nonce":${JSON.stringify(nonce ?? null)},"message":${messageJson(message)}}`;
