import { expect } from 'chai';
import type { TestServer } from './server';

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
  token_type: string;
}

export const PASSWORD = 'correct horse battery';

/** Signs a user up through the API. */
export async function signup(server: TestServer, username: string, password = PASSWORD): Promise<string> {
  const res = await server.request.post('/signup').send({ username, password });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body.id as string;
}

/** A password grant for the built-in client; asserts it succeeds. */
export async function login(server: TestServer, username: string, password = PASSWORD, extra: Record<string, string> = {}): Promise<Tokens> {
  const res = await server.request
    .post('/token')
    .type('form')
    .send({ grant_type: 'password', username, password, ...extra });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body as Tokens;
}

export async function refresh(server: TestServer, refreshToken: string) {
  return server.request.post('/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken });
}

/** Signs up and logs in, returning the user's id and tokens. */
export async function newUser(server: TestServer, username: string): Promise<{ id: string; tokens: Tokens }> {
  const id = await signup(server, username);
  return { id, tokens: await login(server, username) };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
