import { expect } from 'chai';
import type { Response } from 'supertest';

/** SPEC §1: every timestamp in a body is an RFC 3339 UTC string. */
export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Asserts a SPEC §2 error: the status, the code, and a JSON body `{error, error_description}`. */
export function expectError(res: Response, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.type).to.equal('application/json');
  expect(res.body.error).to.equal(code);
  expect(res.body.error_description).to.be.a('string').and.not.be.empty;
}

/** A 401 per RFC 6750 §3.1 for a bad, expired or revoked token. */
export function expectInvalidToken(res: Response): void {
  expectError(res, 401, 'invalid_token');
  expect(res.headers['www-authenticate']).to.match(/^Bearer realm="tessera", /).and.include('error="invalid_token"');
}

/** The field names a validation error's `details` point at. */
export const detailFields = (res: Response): string[] =>
  ((res.body.details ?? []) as Array<{ field: string }>).map((detail) => detail.field);
