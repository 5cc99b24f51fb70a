import type { TesseraClient } from './client.js';

export interface Presence {
  username: string;
  online: boolean;
  connections: number;
}

/**
 * Presence of some users, polled over `GET /presence/:username` (the gateway
 * sends no presence frames); reports each change once.
 */
export class PresenceWatch {
  private readonly watched = new Map<string, boolean | undefined>();
  private polling = false;

  constructor(
    private readonly client: TesseraClient,
    private readonly report: (presence: Presence) => void,
  ) {}

  add(usernames: readonly string[]): void {
    for (const username of usernames) if (!this.watched.has(username)) this.watched.set(username, undefined);
  }

  async poll(): Promise<void> {
    if (this.polling) return; // one round at a time, or two rounds would report one change twice
    this.polling = true;
    try {
      for (const [username, was] of this.watched) {
        try {
          const presence = await this.client.request<Omit<Presence, 'username'>>('GET', `/presence/${encodeURIComponent(username)}`);
          if (presence.online === was) continue;
          this.watched.set(username, presence.online);
          this.report({ username, ...presence });
        } catch {
          // Not sharing a conversation yet, or offline: asked again next round.
        }
      }
    } finally {
      this.polling = false;
    }
  }
}
