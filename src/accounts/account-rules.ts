import { z } from 'zod';

// SPEC §4: 3–32 of [a-z0-9_.-], unique case-insensitively; passwords 8–256 characters.
export const usernameSchema = z
  .string()
  .min(3)
  .max(32)
  .regex(/^[A-Za-z0-9_.-]+$/, 'may contain only letters, digits, "_", "." and "-"');
export const passwordSchema = z.string().min(8).max(256);
export const emailSchema = z.email().max(254);
export const rolesSchema = z.array(z.enum(['admin'])).max(8);
