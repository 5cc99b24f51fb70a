import { EventEmitter } from 'node:events';

import type { TenantRow } from '../db/queries/tenants';
import type { Message } from '../messages/message';

/** Events every process must hear about. */
export interface BusEvents {
  /** A message was stored; deliver it to the members' sockets. */
  'messages.created': {
    readonly tenantId: string;
    readonly message: Message;
    readonly memberIds: readonly string[];
    /** The socket that sent it, which gets an `ack` instead of the message. */
    readonly origin?: string;
  };
  /** A conversation's members changed: forget what is cached of them. */
  'conversations.changed': { readonly tenantId: string; readonly conversationId: string };
  /** A service push for one user's open sockets (not stored). */
  'push.sent': { readonly tenantId: string; readonly userId: string; readonly type: string; readonly data: unknown };
  /** Sessions that were revoked, and when (epoch ms). */
  'sessions.revoked': { readonly ids: readonly string[]; readonly at: number };
  /** A new signing key was made active. */
  'keys.rotated': { readonly tenantId: string };
  /** A tenant's settings changed (its row as it is now), or it was removed (null). */
  'tenants.changed': { readonly tenantId: string; readonly tenant: TenantRow | null };
}

export type BusTopic = keyof BusEvents;

/**
 * Publish/subscribe between the parts of tessera, and (with Redis) between
 * processes. Handlers run for events published by this process too.
 */
export interface Bus {
  publish<T extends BusTopic>(topic: T, event: BusEvents[T]): void;
  subscribe<T extends BusTopic>(topic: T, handler: (event: BusEvents[T]) => void): () => void;
  /** Resolves when events of other processes can reach this one (always, in one process); rejects saying why not. */
  probe(): Promise<void>;
  close(): Promise<void>;
}

/** The in-process bus: the embedded default with no other services. */
export function createLocalBus(): Bus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish(topic, event) {
      emitter.emit(topic, event);
    },
    subscribe(topic, handler) {
      emitter.on(topic, handler);
      return () => emitter.off(topic, handler);
    },
    async probe() {},
    async close() {
      emitter.removeAllListeners();
    },
  };
}
