import { setTimeout as delay } from 'node:timers/promises';
import type { ChildServer } from './child-server';
import { call, expectCall, passwordGrant, refreshGrant, signup } from './http';

const USERS = 3;
const CONVERSATIONS = 2; // every user is in both, so several posters race for each conversation's seq
const CHAINS_PER_USER = 2; // each chain is its own session (a password grant) refreshing in a loop
const MAX_OPS_PER_LOOP = 5_000; // the storm is bounded by count as well as by time

/** A refresh-token family as its client sees it: the newest token it was answered with. */
export interface Chain {
  readonly username: string;
  /** The last refresh token a 200 answered with (the first from the password grant). */
  current: string;
  acknowledged: number;
}

/** A message a poster sent with a nonce. */
export interface Post {
  readonly username: string;
  readonly accessToken: string;
  readonly conversation: string;
  readonly nonce: string;
  readonly content: string;
}

/** A post the server answered 201/200: its message is acknowledged. */
export interface AckedPost extends Post {
  readonly id: string;
  readonly seq: number;
}

interface Poster {
  readonly username: string;
  readonly accessToken: string;
  readonly conversation: string;
}

/**
 * Refresh chains and nonce'd posters hammering one child server until it is
 * killed, recording what was acknowledged and what the kill cut off.
 */
export class Storm {
  readonly acked: AckedPost[] = [];
  /** Posts whose outcome the client never learnt: in flight at the kill, or sent just after it. */
  readonly cut: Post[] = [];
  /** Anything but 200/201, or a failed connection before the kill: the storm itself went wrong. */
  readonly unexpected: string[] = [];
  private killed = false;

  private constructor(
    readonly chains: Chain[],
    private readonly posters: Poster[],
  ) {}

  static async prepare(base: string): Promise<Storm> {
    const usernames = Array.from({ length: USERS }, (_, i) => `storm${i}`);
    for (const username of usernames) await signup(base, username);
    const access = await Promise.all(usernames.map(async (username) => String((await passwordGrant(base, username)).access_token)));
    const conversations: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i += 1) {
      const created = await expectCall(201, base, 'POST', '/conversations', { token: access[0], json: { title: `storm ${i}`, members: usernames } });
      conversations.push(String(created.id));
    }
    const chains = await Promise.all(
      usernames.flatMap((username) =>
        Array.from({ length: CHAINS_PER_USER }, async () => ({ username, current: String((await passwordGrant(base, username)).refresh_token), acknowledged: 0 })),
      ),
    );
    const posters = usernames.flatMap((username, u) => conversations.map((conversation) => ({ username, accessToken: access[u]!, conversation })));
    return new Storm(chains, posters);
  }

  get refreshesAcknowledged(): number {
    return this.chains.reduce((sum, chain) => sum + chain.acknowledged, 0);
  }

  /** Runs every chain and poster for `durationMs`, then kill -9s `server` mid-storm and waits for every loop to end. */
  async runThenKill(base: string, server: ChildServer, durationMs: number): Promise<void> {
    const loops = [...this.chains.map((chain) => this.refreshLoop(base, chain)), ...this.posters.map((poster, i) => this.postLoop(base, poster, i))];
    await delay(durationMs);
    this.killed = true;
    await server.kill();
    await Promise.all(loops); // each loop ends at its first failed request, and requests time out
  }

  private async refreshLoop(base: string, chain: Chain): Promise<void> {
    for (let i = 0; i < MAX_OPS_PER_LOOP; i += 1) {
      const answer = await this.attempt(`refresh of ${chain.username}`, () => refreshGrant(base, chain.current));
      if (!answer) return;
      chain.current = String(answer.refresh_token);
      chain.acknowledged += 1;
    }
  }

  private async postLoop(base: string, poster: Poster, index: number): Promise<void> {
    for (let i = 0; i < MAX_OPS_PER_LOOP; i += 1) {
      const nonce = `p${index}-${i}`;
      const post: Post = { ...poster, nonce, content: `storm message ${nonce}` };
      const answer = await this.attempt(`post ${nonce}`, () =>
        call(base, 'POST', `/messages/${poster.conversation}`, { token: poster.accessToken, json: { content: post.content, nonce } }),
      );
      if (!answer) {
        if (this.killed) this.cut.push(post);
        return;
      }
      this.acked.push({ ...post, id: String(answer.id), seq: Number(answer.seq) });
    }
  }

  /** The body of a 200/201 answer, or undefined when the loop must end (the kill, or something unexpected, recorded). */
  private async attempt(what: string, request: () => ReturnType<typeof call>): Promise<Record<string, unknown> | undefined> {
    try {
      const { status, body } = await request();
      if (status === 200 || status === 201) return body;
      this.unexpected.push(`${what}: ${status} ${JSON.stringify(body)}`);
    } catch (error) {
      if (!this.killed) this.unexpected.push(`${what}: ${String(error)} before the kill`);
    }
    return undefined;
  }
}
