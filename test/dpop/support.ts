import { createHash, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };
import type { Response } from 'supertest';
import type { TestServer } from '../support/server';
import { PASSWORD, type Tokens } from '../support/users';

type Json = Record<string, unknown>;

let joseModule: Promise<typeof Jose> | undefined;
/** jose, loaded once (an ES module). */
export const jose = (): Promise<typeof Jose> => (joseModule ??= import('jose'));

/** A client's DPoP key: the private half to sign with, the public JWK its proofs carry, and its RFC 7638 thumbprint. */
export interface ProofKey {
  readonly alg: string;
  readonly privateKey: Jose.CryptoKey;
  readonly jwk: Jose.JWK;
  readonly jkt: string;
}

export async function newKey(alg = 'ES256'): Promise<ProofKey> {
  const { generateKeyPair, exportJWK, calculateJwkThumbprint } = await jose();
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

export interface ProofOptions {
  readonly htm?: string;
  readonly htu: string;
  /** The access token the proof goes with: its hash becomes `ath`. */
  readonly token?: string;
  /** Epoch seconds; now by default. */
  readonly iat?: number;
  readonly jti?: string;
  readonly nonce?: string;
  /** Header members to add, replace or (with undefined) remove. */
  readonly header?: Json;
  /** Claims to add, replace or (with undefined) remove. */
  readonly claims?: Json;
}

export const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');

const withChanges = (base: Json, changes: Json = {}): Json => {
  const result = { ...base, ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete result[name];
  return result;
};

/** A DPoP proof JWT (RFC 9449 §4.2) signed by `key`, made by hand so a test can bend any part of it. */
export async function proof(key: ProofKey, options: ProofOptions): Promise<string> {
  const { SignJWT } = await jose();
  const claims = withChanges(
    {
      jti: options.jti ?? randomUUID(),
      htm: options.htm ?? 'GET',
      htu: options.htu,
      iat: options.iat ?? Math.floor(Date.now() / 1000),
      ...(options.token === undefined ? {} : { ath: ath(options.token) }),
      ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    },
    options.claims,
  );
  const header = withChanges({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk }, options.header) as Jose.JWTHeaderParameters;
  return new SignJWT(claims).setProtectedHeader(header).sign(key.privateKey);
}

/** `POST /token` with form fields and a DPoP proof of `key` for the token endpoint. */
export async function dpopTokenRequest(server: TestServer, key: ProofKey, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  const dpop = await proof(key, { htm: 'POST', htu: `${server.url}/token` });
  return server.request.post('/token').type('form').set({ DPoP: dpop, ...headers }).send(fields);
}

/** A password grant of the built-in client bound to `key`; asserts it succeeds. */
export async function dpopLogin(server: TestServer, username: string, key: ProofKey, password = PASSWORD): Promise<Tokens> {
  const res = await dpopTokenRequest(server, key, { grant_type: 'password', username, password });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  expect(res.body.token_type).to.equal('DPoP');
  return res.body as Tokens;
}

/** `Authorization: DPoP` with a fresh proof of `key` for this request. */
export async function dpopHeaders(server: TestServer, key: ProofKey, token: string, method = 'GET', path = '/me', options: Partial<ProofOptions> = {}) {
  return { Authorization: `DPoP ${token}`, DPoP: await proof(key, { htm: method, htu: `${server.url}${path}`, token, ...options }) };
}

/** A 401 with a `DPoP` challenge carrying `code` and the accepted algorithms (RFC 9449 §7.1). */
export function expectDpopChallenge(res: Pick<Response, 'status' | 'headers' | 'body'>, code: 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce'): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(401);
  expect(res.body.error).to.equal(code);
  expect(res.body.error_description).to.be.a('string').and.not.be.empty;
  const challenge = String(res.headers['www-authenticate']);
  expect(challenge).to.match(/^DPoP /).and.include(`error="${code}"`).and.include('algs="ES256');
}

/** A token endpoint refusal (RFC 9449 §5): 400 and the code in the body. */
export function expectTokenRefusal(res: Pick<Response, 'status' | 'body'>, code: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(400);
  expect(res.body.error).to.equal(code);
  expect(res.body.error_description).to.be.a('string').and.not.be.empty;
}
