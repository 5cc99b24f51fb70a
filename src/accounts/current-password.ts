import type { Response } from 'express';
import { z } from 'zod';
import type { UserRow } from '../db/queries/users';
import { forbidden } from '../errors';
import type { Services } from '../services';

/** A current password as a body field: anything a password grant accepts. */
export const currentPasswordSchema = z.string().min(1).max(256);

/**
 * SPEC §9: the token's user proves again that they know the password before changing how the account
 * is protected. A wrong one is 403 and a failed login of that user: it marks the response so the
 * failed-login limit counts it (src/http/rate-limits.ts), which runs before this and answers 429
 * without a hash once the user and address are over the limit.
 */
export async function requireCurrentPassword({ users, metrics }: Pick<Services, 'users' | 'metrics'>, user: UserRow, password: string, res: Response): Promise<void> {
  if (await users.checkPassword(user, password)) return;
  metrics.failedLogins.inc();
  res.locals.passwordRejected = true;
  throw forbidden('The current password is wrong.');
}
