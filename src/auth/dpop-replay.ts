import type { Redis } from 'ioredis';
import { unavailable } from '../errors';
import type { Logger } from '../logger';

/** Remembers proof ids (`jti`, RFC 9449 §11.1) for as long as a proof with them could be accepted. */
export interface ProofReplayStore {
  /** True the first time `id` is seen within `ttlMs`; false for a replay. */
  firstUse(id: string, ttlMs: number, now?: number): Promise<boolean>;
}

// Far above what one process verifies in a proof's lifetime (≈ 5,000 proofs/s for two minutes); refusing
// beyond it is better than forgetting ids still inside their window, which would let proofs be replayed.
const MEMORY_LIMIT = 1_000_000;

/** Proof ids in this process's memory: the embedded default, and the first check in front of Redis. */
export class MemoryProofReplayStore implements ProofReplayStore {
  // Every entry lives the same ttl, so insertion order is expiry order: expired ones are at the front.
  private readonly seen = new Map<string, number>();

  async firstUse(id: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    for (const [oldest, expiresAt] of this.seen) {
      if (expiresAt > now) break;
      this.seen.delete(oldest);
    }
    const expiresAt = this.seen.get(id);
    if (expiresAt !== undefined && expiresAt > now) return false;
    if (this.seen.size >= MEMORY_LIMIT) throw unavailable('the DPoP proof replay store is full');
    this.seen.set(id, now + ttlMs);
    return true;
  }
}

const WARN_EVERY_MS = 60_000;

/**
 * Proof ids in Redis (`SET NX PX`), so a proof replayed to another process
 * is refused too. This process's memory answers first. With Redis away a
 * proof is checked against this process only (logged), as rate limits
 * degrade: requests never wait for Redis.
 */
export class RedisProofReplayStore implements ProofReplayStore {
  private readonly local = new MemoryProofReplayStore();
  private warnedAt = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  async firstUse(id: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    if (!(await this.local.firstUse(id, ttlMs, now))) return false;
    try {
      return (await this.redis.set(`${this.prefix}dpop:jti:${id}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
    } catch (error) {
      if (now - this.warnedAt >= WARN_EVERY_MS) {
        this.warnedAt = now;
        this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'DPoP replay check without redis: proofs are checked against this process only');
      }
      return true;
    }
  }
}
