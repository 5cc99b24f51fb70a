import { createHmac, sign } from 'node:crypto';
import type { SigningKey } from './key-ring';

const base64url = (value: string) => Buffer.from(value).toString('base64url');

function signature(key: SigningKey, input: string): string {
  if (key.alg === 'HS256') return createHmac('sha256', key.privateKey).update(input).digest('base64url');
  // RFC 7518 §3.4: ECDSA signatures are R || S, not DER. RS256 is RSASSA-PKCS1-v1_5, node's default for RSA keys.
  const options = key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' as const } : key.privateKey;
  return sign('sha256', Buffer.from(input), options).toString('base64url');
}

/**
 * RFC 7515 compact JWS, signed with node:crypto directly: jsonwebtoken's
 * option checks and DER-to-JOSE conversion cost a third again as much as
 * the ES256 signature itself. Verification stays with jsonwebtoken.
 */
export function signJws(key: SigningKey, type: string, claims: object): string {
  const input = `${base64url(JSON.stringify({ alg: key.alg, typ: type, kid: key.kid }))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${signature(key, input)}`;
}
