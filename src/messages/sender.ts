import type { Principal } from '../auth/access-tokens';
import type { Sender } from './message-store';

/** Users post as themselves (members only); a service client with `push` posts as the assistant. */
export const senderOf = (principal: Principal): Sender =>
  principal.kind === 'user'
    ? { id: principal.subject, name: principal.username ?? principal.subject, role: 'user', member: true }
    : { id: principal.clientId, name: principal.clientId, role: 'assistant', member: false };
