import { hash } from 'node:crypto';
import { DPOP_ALGORITHMS, dpopError, type DpopAlgorithm, type DpopEndpoint } from './dpop-errors';
import { proofKeyOf, verifySignature, type ProofKey } from './dpop-keys';
import type { DpopNonces } from './dpop-nonces';
import type { ProofReplayStore } from './dpop-replay';

/** What a proof must have been made for: the request's method and the URLs it may name (RFC 9449 §4.3). */
export interface ProofTarget {
  readonly method: string;
  /** The request's URL as each way a client may have reached it; normalised here. */
  readonly urls: () => readonly string[];
}

/**
 * How far a proof's `iat` may be from now, either way (RFC 9449 §11.1): a
 * minute, for clients whose clocks are a little off. Its `jti` is remembered
 * as long as it could be accepted: twice that, and a margin.
 */
export const PROOF_IAT_WINDOW_S = 60;
const REPLAY_TTL_MS = (2 * PROOF_IAT_WINDOW_S + 5) * 1000;
/** Longer than any proof by an accepted key (an RSA-4096 `jwk` and its signature are ≈ 2 KB). */
export const MAX_PROOF_LENGTH = 4096;
const MAX_JTI_LENGTH = 256;
const DPOP_TYPE = 'dpop+jwt';
const ACCEPTED_ALGORITHMS = new Set<string>(DPOP_ALGORITHMS);
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const HEADER_CACHE_LIMIT = 10_000;

/**
 * `htu` as RFC 9449 §4.3 compares it: no query or fragment, and the syntax-
 * and scheme-based normalisations of RFC 3986 §6.2.2–6.2.3 (case of scheme
 * and host, default port, dot segments, percent-encoding); undefined for
 * anything but an absolute http(s) URL without user information.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '') return undefined;
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path}`;
}

const NORMALIZED_LIMIT = 1_000;
const normalized = new Map<string, string | undefined>();

/** normalizeHtu, remembered: a client names the same few URLs again and again, and each is parsed once. */
function normalizedHtu(value: string): string | undefined {
  if (normalized.has(value)) return normalized.get(value);
  const result = normalizeHtu(value);
  if (normalized.size >= NORMALIZED_LIMIT) normalized.delete(normalized.keys().next().value!);
  normalized.set(value, result);
  return result;
}

/** `ath` (RFC 9449 §4.2): base64url SHA-256 of the access token. */
export const accessTokenHash = (token: string): string => hash('sha256', token, 'base64url');

type Json = Record<string, unknown>;

function decodePart(part: string | undefined): Json | undefined {
  if (part === undefined || !/^[A-Za-z0-9_-]+$/.test(part)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies DPoP proofs (RFC 9449 §4.3) for the token endpoint, resources and
 * the socket alike: one proof JWT, `typ`, an asymmetric `alg`, a public `jwk`
 * whose signature it carries, `htm`, `htu`, `iat` within a minute, `ath` of
 * the presented token, the server's nonce when nonces are on, and a `jti`
 * never seen before (in this process, and across processes with Redis).
 */
export class DpopProofs {
  /**
   * Checked protected headers (base64url, as sent) and their keys: a client sends the same header with
   * every proof, and importing its key is most of what a proof costs beside the signature.
   */
  private readonly headers = new Map<string, ProofKey>();

  constructor(
    private readonly replay: ProofReplayStore,
    /** Present with DPOP_NONCES=on. */
    readonly nonces: DpopNonces | undefined,
  ) {}

  /**
   * Checks the `DPoP` header's proof for a request, and for `accessToken`
   * when one is presented with it; returns the thumbprint of its key.
   * Throws the `invalid_dpop_proof` / `use_dpop_nonce` answer for `endpoint`.
   */
  async verify(header: string | undefined, target: ProofTarget, endpoint: DpopEndpoint, accessToken?: string, now = Date.now()): Promise<string> {
    const refuse = (description: string) => dpopError(endpoint, 'invalid_dpop_proof', description);
    if (header === undefined || header === '') throw refuse('A DPoP proof is required: send one in the DPoP header.');
    // Node joins repeated headers with ", "; a JWT has neither (RFC 9449 §4.3: not more than one DPoP header).
    if (header.length > MAX_PROOF_LENGTH) throw refuse('The DPoP proof is too long.');
    if (/[,\s]/.test(header)) throw refuse('Send exactly one DPoP header with one proof.');
    const parts = header.split('.');
    const claims = decodePart(parts[1]);
    if (parts.length !== 3 || !claims || !/^[A-Za-z0-9_-]+$/.test(parts[2]!)) throw refuse('The DPoP proof is not a signed JWT.');
    const key = this.keyOf(parts[0]!, refuse);
    if (!verifySignature(key, Buffer.from(`${parts[0]}.${parts[1]}`), Buffer.from(parts[2]!, 'base64url'))) {
      throw refuse('The signature of the DPoP proof does not verify.');
    }

    const { jti, htm, htu, iat, ath } = claims;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) throw refuse('The DPoP proof needs a jti.');
    if (htm !== target.method) throw refuse(`The DPoP proof is for another method (htm must be ${target.method}).`);
    const proofUrl = typeof htu === 'string' ? normalizedHtu(htu) : undefined;
    if (proofUrl === undefined || !target.urls().some((url) => normalizedHtu(url) === proofUrl)) throw refuse('The DPoP proof is for another URL (htu).');
    if (typeof iat !== 'number' || !Number.isFinite(iat) || Math.abs(iat - now / 1000) > PROOF_IAT_WINDOW_S) {
      throw refuse(`The DPoP proof is stale or from the future (iat must be within ${PROOF_IAT_WINDOW_S} s of the server's clock).`);
    }
    if (accessToken !== undefined && ath !== accessTokenHash(accessToken)) throw refuse('The DPoP proof is for another access token (ath).');
    if (this.nonces && !(await this.nonces.accepts(claims.nonce, now))) {
      throw dpopError(endpoint, 'use_dpop_nonce', 'Send a DPoP proof with the nonce of the DPoP-Nonce header.', await this.nonces.current(now));
    }
    // Last: a proof refused for anything else does not use up its jti.
    if (!(await this.replay.firstUse(hash('sha256', `${key.jkt}\0${jti}`, 'base64url'), REPLAY_TTL_MS, now))) {
      throw refuse('The DPoP proof was used before (jti); make a new proof for every request.');
    }
    return key.jkt;
  }

  /** The key of a proof's protected header (encoded), checked for typ, alg, crit and a public jwk; a client's header is the same on every proof. */
  private keyOf(encodedHeader: string, refuse: (description: string) => Error): ProofKey {
    const known = this.headers.get(encodedHeader);
    if (known) return known;
    const head = decodePart(encodedHeader);
    if (!head) throw refuse('The DPoP proof is not a signed JWT.');
    if (head.typ !== DPOP_TYPE) throw refuse('The DPoP proof must have typ "dpop+jwt".');
    if (typeof head.alg !== 'string' || !ACCEPTED_ALGORITHMS.has(head.alg)) throw refuse(`The DPoP proof must be signed with one of ${DPOP_ALGORITHMS.join(', ')}.`);
    if (head.crit !== undefined) throw refuse('The DPoP proof names extensions this server does not understand (crit).');
    const key = proofKeyOf(head.jwk, head.alg as DpopAlgorithm);
    if (key && 'private' in key) throw refuse('The jwk of a DPoP proof must be a public key, never a private one.');
    if (!key) throw refuse('The DPoP proof must carry the public key it was signed with (jwk), of a type its alg uses.');
    if (this.headers.size >= HEADER_CACHE_LIMIT) this.headers.delete(this.headers.keys().next().value!);
    this.headers.set(encodedHeader, key);
    return key;
  }
}
