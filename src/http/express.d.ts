import type { Principal } from '../auth/access-tokens';

declare global {
  namespace Express {
    interface Request {
      /** Set by the request-id middleware. */
      id: string;
      /** Set by the bearer middleware once the access token checked out. */
      principal?: Principal;
    }
  }
}

export {};
