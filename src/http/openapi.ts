import { z } from 'zod';
import type { Config } from '../config';
import type { ResponseSpec, RouteSpec } from './api';

type JsonSchema = Record<string, unknown>;

const HEADER_DOCS: Record<string, string> = {
  Location: 'Where the created object can be read',
  Link: 'RFC 8288 link to the next page: <…>; rel="next"',
  'WWW-Authenticate': 'RFC 6750 Bearer challenge, or RFC 9449 DPoP challenge (error, algs) for DPoP requests and DPoP-bound tokens',
  'DPoP-Nonce': 'RFC 9449 §8: the nonce the next DPoP proof must carry (with DPOP_NONCES=on)',
  'Retry-After': 'Seconds to wait before retrying',
  'Set-Cookie': 'The refresh cookie tessera_rt (HttpOnly, SameSite=Strict)',
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parameters(spec: RouteSpec): JsonSchema[] {
  const from = (schema: z.ZodType | undefined, where: 'path' | 'query') => {
    if (!schema) return [];
    const { properties = {}, required = [] } = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    return Object.entries(properties).map(([name, property]) => ({
      name,
      in: where,
      required: where === 'path' || required.includes(name),
      schema: property,
    }));
  };
  return [...from(spec.params, 'path'), ...from(spec.query ?? spec.documentedQuery, 'query')];
}

function security(spec: RouteSpec): JsonSchema[] | undefined {
  if (spec.clientAuth) return [{ clientSecretBasic: [] }, {}];
  if (!spec.auth) return [];
  const { scope } = spec.auth;
  const scopes = scope === undefined ? [] : typeof scope === 'string' ? [scope] : [scope.user, scope.client];
  // A DPoP-bound token (RFC 9449) must use the dpop scheme; any other token the bearer one.
  const alternatives = scopes.length > 1 ? scopes.map((s) => [s]) : [scopes];
  return alternatives.flatMap((needed) => [{ bearer: needed }, { dpop: needed }]);
}

function operation(spec: RouteSpec): JsonSchema {
  const body = spec.body ?? spec.documentedBody;
  const responses = Object.fromEntries(
    Object.entries<ResponseSpec>({ ...spec.responses, 500: { description: 'server_error (never a stack or SQL)' } }).map(([status, response]) => [
      status,
      {
        description: response.description,
        ...(response.headers ? { headers: Object.fromEntries(response.headers.map((h) => [h, { description: HEADER_DOCS[h] ?? h, schema: { type: 'string' } }])) } : {}),
        ...(response.schema ? { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } } : {}),
      },
    ]),
  );
  return {
    tags: [spec.tag],
    summary: spec.summary,
    operationId: `${spec.method}${spec.path.replace(/[/:.-]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
    ...(parameters(spec).length ? { parameters: parameters(spec) } : {}),
    ...(body
      ? {
          requestBody: {
            required: true,
            content: Object.fromEntries((spec.bodyTypes ?? ['application/json']).map((type) => [type, { schema: jsonSchema(body, 'input') }])),
          },
        }
      : {}),
    security: security(spec),
    responses,
  };
}

/** The OpenAPI 3.1 document of every registered route, generated from the same zod schemas that validate. */
export function openApiDocument(routes: readonly RouteSpec[], config: Config): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of routes) {
    const path = spec.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [spec.method]: operation(spec) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'tessera',
      version: '1',
      description:
        'Token server, REST resources and WebSocket gateway. Errors are {"error", "error_description", "details"?}. ' +
        'Tenants (SPEC §8): the built-in tenant serves these paths at the root, every other tenant under /t/{tenant} ' +
        '(or at the root of a host TENANT_HOSTS maps to it), with its own issuer, keys and data; this is the document of the tenant at the server URL.',
    },
    servers: [{ url: config.issuer }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (RFC 9068 at+jwt)' },
        dpop: {
          type: 'http',
          scheme: 'dpop',
          description: 'RFC 9449: Authorization: DPoP <token> and a DPoP header with a proof for this request (htm, htu, iat, jti, ath); required for tokens bound to a key (cnf.jkt)',
        },
        clientSecretBasic: {
          type: 'http',
          scheme: 'basic',
          description: 'OAuth client_secret_basic; client_secret_post (client_id and client_secret in the body) and none (the public client) work too',
        },
      },
    },
  };
}
