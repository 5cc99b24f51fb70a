import { constants, createPublicKey, hash, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { DpopAlgorithm } from './dpop-errors';

/** A proof's public key, ready to verify with, and its RFC 7638 thumbprint. */
export interface ProofKey {
  readonly key: KeyObject;
  /** base64url SHA-256 JWK thumbprint (RFC 7638), the `jkt` of RFC 9449 §6.1. */
  readonly jkt: string;
  readonly alg: DpopAlgorithm;
}

type Jwk = Record<string, unknown>;

// Members that only a private (or symmetric) JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4): RFC 9449 §4.3 wants a public key.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
// The members of each key type that its RFC 7638 thumbprint hashes, in lexicographic order.
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };
const KEY_OF_ALG: Record<DpopAlgorithm, { kty: string; crv?: string }> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  RS256: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
};
const MIN_RSA_BITS = 2048; // RFC 7518 §3.3
const MAX_RSA_BITS = 4096;

function thumbprint(jwk: Jwk, members: readonly string[]): string | undefined {
  const canonical: Record<string, string> = {};
  for (const member of members) {
    const value = jwk[member];
    if (typeof value !== 'string') return undefined;
    canonical[member] = value;
  }
  return hash('sha256', JSON.stringify(canonical), 'base64url');
}

function importKey(jwk: Jwk, alg: DpopAlgorithm): ProofKey | undefined {
  const expected = KEY_OF_ALG[alg];
  if (jwk.kty !== expected.kty || (expected.crv !== undefined && jwk.crv !== expected.crv)) return undefined;
  const jkt = thumbprint(jwk, THUMBPRINT_MEMBERS[expected.kty]!);
  if (jkt === undefined) return undefined;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (expected.kty === 'RSA' && (bits === undefined || bits < MIN_RSA_BITS || bits > MAX_RSA_BITS)) return undefined;
  return { key, jkt, alg };
}

/** The key of a proof header's `jwk`: undefined when it is not a public key of the kind `alg` needs, `{private: true}` for a private one. */
export function proofKeyOf(jwk: unknown, alg: DpopAlgorithm): ProofKey | { private: true } | undefined {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) return undefined;
  const members = jwk as Jwk;
  if (PRIVATE_MEMBERS.some((member) => member in members)) return { private: true };
  return importKey(members, alg);
}

/** Verifies a JWS signature over `input` (RFC 7518 §3.3–3.5, RFC 8037 §3.1). */
export function verifySignature({ key, alg }: ProofKey, input: Buffer, signature: Buffer): boolean {
  try {
    switch (alg) {
      case 'ES256':
        return verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'ES384':
        return verify('sha384', input, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'EdDSA':
        return verify(null, input, key, signature);
      case 'RS256':
        return verify('sha256', input, key, signature);
      case 'PS256':
        return verify('sha256', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
    }
  } catch {
    return false;
  }
}
