// DPoP proofs (RFC 9449 §4.2) for the bench: made with node:crypto, so the
// load agent signs thousands a second on its own core without jose's async path.
import { createPrivateKey, generateKeyPairSync, hash, randomBytes, sign, type JsonWebKey } from 'node:crypto';

/** A client's ES256 key as plain JSON, so it can travel to the agent. */
export interface DpopKey {
  readonly privateJwk: JsonWebKey;
  readonly publicJwk: JsonWebKey;
}

export function newDpopKey(): DpopKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateJwk: privateKey.export({ format: 'jwk' }), publicJwk: publicKey.export({ format: 'jwk' }) };
}

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Makes proofs by one key: the header is encoded once, the claims and signature each time. */
export function proofMaker(key: DpopKey): (htm: string, htu: string, accessToken?: string) => string {
  const privateKey = createPrivateKey({ key: key.privateJwk, format: 'jwk' });
  const header = segment({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk });
  return (htm, htu, accessToken) => {
    const claims = {
      jti: randomBytes(16).toString('base64url'),
      htm,
      htu,
      iat: Math.floor(Date.now() / 1000),
      ...(accessToken === undefined ? {} : { ath: hash('sha256', accessToken, 'base64url') }),
    };
    const input = `${header}.${segment(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
}
