import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger';
import { createLocalBus, type Bus, type BusEvents, type BusTopic } from './bus';

interface Published {
  readonly topic: BusTopic;
  readonly event: unknown;
}

/** What one PUBLISH carries: every event a process published in one turn of its event loop. */
interface Envelope {
  readonly origin: string;
  readonly events: readonly Published[];
}

const ENVELOPE_BYTES = 1024 * 1024;

/**
 * The bus across processes over Redis pub/sub. Events reach this process's
 * handlers at once, without the round trip, and every other process through
 * Redis; a process ignores its own echo. While Redis is away events still
 * flow inside the process, and clients catch up on missed messages with
 * `resume` (messages are in the database, not in Redis). The events of one
 * turn (a committed batch of messages) travel in one PUBLISH of at most about
 * ENVELOPE_BYTES (more in several), in order.
 */
export function createRedisBus(publisher: Redis, subscriber: Redis, prefix: string, logger: Logger): Bus {
  const local = createLocalBus();
  const origin = randomUUID();
  const channel = `${prefix}bus`;

  let subscribed = false;
  const subscribe = () => {
    subscriber.subscribe(channel).then(
      () => {
        subscribed = true;
      },
      (error: unknown) => logger.warn({ err: String(error) }, 'bus subscribe failed; will retry on reconnect'),
    );
  };
  // On every connection, not only the first: a process started while Redis was away, or
  // whose subscription was lost with its connection, must listen again once Redis answers.
  subscriber.on('ready', subscribe);
  subscriber.on('close', () => {
    subscribed = false;
  });
  if (subscriber.status === 'ready') subscribe();
  subscriber.on('message', (from: string, raw: string) => {
    if (from !== channel) return;
    try {
      const envelope = JSON.parse(raw) as Envelope;
      if (envelope.origin !== origin) for (const { topic, event } of envelope.events) local.publish(topic, event as never);
    } catch (error) {
      logger.warn({ err: String(error) }, 'unreadable bus event ignored');
    }
  });

  // Each event serialised when published, so the envelope's size is known before it is sent.
  let pending: string[] = [];
  let pendingBytes = 0;
  let pendingTopics = new Set<BusTopic>();
  const flush = () => {
    if (pending.length === 0) return;
    const envelope = `{"origin":${JSON.stringify(origin)},"events":[${pending.join(',')}]}`;
    const topics = pendingTopics;
    pending = [];
    pendingBytes = 0;
    pendingTopics = new Set();
    publisher.publish(channel, envelope).catch((error: unknown) => {
      logger.warn({ topics: [...topics], err: String(error) }, 'bus events not sent to other processes');
    });
  };

  return {
    publish<T extends BusTopic>(topic: T, event: BusEvents[T]) {
      local.publish(topic, event);
      if (pending.length === 0) process.nextTick(flush);
      const published = JSON.stringify({ topic, event } satisfies Published);
      pending.push(published);
      pendingBytes += published.length;
      pendingTopics.add(topic);
      // A turn that publishes megabytes (a batch of large messages) goes out in envelopes of about this size, not one without bound.
      if (pendingBytes >= ENVELOPE_BYTES) flush();
    },
    subscribe: local.subscribe,
    async probe() {
      if (!subscribed) throw new Error(`not subscribed to ${channel}`);
      await subscriber.ping();
    },
    async close() {
      await local.close();
    },
  };
}
