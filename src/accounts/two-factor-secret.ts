import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { serverError } from '../errors';

// Stored forms: "aes.<iv>.<tag>.<ciphertext>" (base64url, AES-256-GCM under TWO_FACTOR_KEY),
// or "plain.<base32>" when no key is configured. A key set later still reads plain secrets.
const SEALED = 'aes';
const PLAIN = 'plain';

const keyOf = (twoFactorKey: string) => createHash('sha256').update('tessera totp secret\0').update(twoFactorKey).digest();

/** The stored form of a Base32 TOTP secret: sealed when a key is configured. */
export function sealSecret(secret: string, twoFactorKey: string | undefined): string {
  if (twoFactorKey === undefined) return `${PLAIN}.${secret}`;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(twoFactorKey), iv);
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [SEALED, iv, cipher.getAuthTag(), sealed].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

/** The Base32 secret of a stored form; a 500 (detail in the log only) when the key is missing or wrong. */
export function openSecret(stored: string, twoFactorKey: string | undefined): string {
  const [kind, ...parts] = stored.split('.');
  if (kind === PLAIN && parts.length === 1) return parts[0]!;
  if (kind !== SEALED || parts.length !== 3) throw serverError('a stored TOTP secret is malformed');
  if (twoFactorKey === undefined) throw serverError('a TOTP secret is sealed but TWO_FACTOR_KEY is unset');
  const [iv, tag, sealed] = parts.map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer, Buffer];
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(twoFactorKey), iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8');
  } catch {
    throw serverError('a TOTP secret does not open with TWO_FACTOR_KEY (was the key changed?)');
  }
}
