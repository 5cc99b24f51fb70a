import type { Router } from 'express';
import { z } from 'zod';
import { ALL_SCOPES } from '../auth/scopes';
import type { Config } from '../config';
import type { Api } from '../http/api';
import { ID_TOKEN_ALGS, TOKEN_ENDPOINT_AUTH_METHODS } from '../oauth/clients';
import { supportedGrantTypes } from '../oauth/grant';
import type { Services } from '../services';
import { CLAIMS_SUPPORTED } from './claims';

/**
 * The one metadata document of a tenant's issuer: RFC 8414 authorization server metadata and
 * OpenID Connect Discovery 1.0 §3 provider metadata are the same fields (SPEC §10).
 */
export function providerMetadata(config: Config) {
  const { issuer } = config;
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/userinfo`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    end_session_endpoint: `${issuer}/end-session`,
    ...(config.clientRegistration !== 'closed' && { registration_endpoint: `${issuer}/register` }),
    revocation_endpoint: `${issuer}/revoke`,
    introspection_endpoint: `${issuer}/introspect`,
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'form_post'],
    grant_types_supported: supportedGrantTypes(config),
    // RFC 9700 §2.1.1: PKCE with S256 only, required of every client.
    code_challenge_methods_supported: ['S256'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ID_TOKEN_ALGS,
    // RFC 9207: every authorization response names its issuer.
    authorization_response_iss_parameter_supported: true,
    scopes_supported: ALL_SCOPES,
    claims_supported: CLAIMS_SUPPORTED,
    claim_types_supported: ['normal'],
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    token_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    service_documentation: `${issuer}/openapi.json`,
  };
}

const metadataJson = z.looseObject({ issuer: z.string(), token_endpoint: z.string(), jwks_uri: z.string(), authorization_endpoint: z.string() });

/** RFC 8414 and OpenID Connect Discovery: one document at both well-known paths of the tenant's issuer. */
export function discoveryRoutes(api: Api, router: Router, { config }: Services): void {
  const document = providerMetadata(config);
  const documents = [
    { path: '/.well-known/oauth-authorization-server', tag: 'OAuth', summary: 'RFC 8414 authorization server metadata' },
    { path: '/.well-known/openid-configuration', tag: 'OpenID Connect', summary: 'OpenID Connect Discovery 1.0 provider metadata (the same document)' },
  ];
  for (const { path, tag, summary } of documents) {
    api.route(router, { method: 'get', path, tag, summary, responses: { 200: { description: 'Metadata', schema: metadataJson } } }, (_input, _req, res) => {
      res.set('Cache-Control', 'public, max-age=300').json(document);
    });
  }
}
