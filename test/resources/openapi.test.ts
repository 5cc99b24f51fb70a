import { expect } from 'chai';
import type { Response } from 'supertest';
import { challengedScope, clientAuth, scopedAuth, userAuth, type Auth } from '../support/resources';
import { onEachDatabase, startServer, type TestServer } from '../support/server';

interface Operation {
  responses?: Record<string, { description?: unknown }>;
  security?: Array<Record<string, string[]>>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, Record<string, unknown>> };
}

/** The parts of an Express 5 (router 2) layer the walk reads. */
interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
  slash?: boolean;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** Where a router layer is mounted; fails when the router cannot tell. */
function mountPath(layer: Layer): string {
  if (typeof layer.rawPath === 'string') return layer.rawPath === '/' ? '' : layer.rawPath;
  if (layer.slash) return '';
  throw new Error('cannot tell where a nested router is mounted');
}

/** Every "METHOD /openapi/{path}" the app routes, walking nested routers. */
function appOperations(server: TestServer): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        expect(layer.route.path, 'a route path that is a string').to.be.a('string');
        const path = toOpenApiPath(prefix + (layer.route.path as string));
        for (const [method, on] of Object.entries(layer.route.methods)) if (on) found.push(`${method.toUpperCase()} ${path}`);
      } else if (Array.isArray(layer.handle?.stack)) {
        walk(layer.handle.stack, prefix + mountPath(layer));
      }
    }
  };
  walk((server.tessera.app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return found;
}

/** Every documented operation as [ "METHOD /path", operation ]. */
const documented = (doc: OpenApiDocument): Array<[string, Operation]> =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.has(method))
      .map(([method, operation]): [string, Operation] => [`${method.toUpperCase()} ${path}`, operation]),
  );

/** The scopes of the bearer requirements of an operation, or undefined when it has none. */
function bearerScopes(operation: Operation): string[] | undefined {
  const bearers = (operation.security ?? []).filter((requirement) => 'bearer' in requirement);
  return bearers.length === 0 ? undefined : [...new Set(bearers.flatMap((requirement) => requirement.bearer!))].sort();
}

onEachDatabase('OpenAPI document (SPEC §7)', (database) => {
  let server: TestServer;
  let doc: OpenApiDocument;
  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' }, database);
    await userAuth(server, 'alice');
    const res = await server.request.get('/openapi.json');
    expect(res.status).to.equal(200);
    expect(res.type).to.equal('application/json');
    doc = res.body as OpenApiDocument;
  });
  after(() => server.close());

  /** Sends a documented operation (path parameters filled with "x") with no body. */
  const probe = (operation: string, auth?: Auth): Promise<Response> => {
    const [method, path] = operation.split(' ') as [string, string];
    const req = server.request[method.toLowerCase() as 'get'](path.replace(/\{\w+\}/g, 'x'));
    return auth ? req.set(auth) : req;
  };

  describe('validity', () => {
    // @seriousme/openapi-schema-validator checks a document against the official OpenAPI JSON schemas (2.0 to 3.2).
    const validate = async (document: unknown) => {
      const { Validator } = await import('@seriousme/openapi-schema-validator');
      expect(Validator.supportedVersions.has('3.1')).to.equal(true);
      const validator = new Validator();
      return { result: await validator.validate(structuredClone(document) as Record<string, unknown>), version: validator.version };
    };

    it('validates against the OpenAPI 3.1 schema', async () => {
      expect(doc.openapi).to.match(/^3\.1\.\d+$/);
      const { result, version } = await validate(doc);
      expect(result.errors, JSON.stringify(result.errors, null, 2)).to.equal(undefined);
      expect(result.valid).to.equal(true);
      expect(version).to.equal('3.1');
    });

    it('is checked by a validator that refuses a document breaking the schema (control)', async () => {
      const broken = structuredClone(doc) as unknown as Record<string, Record<string, unknown>>;
      delete broken.info!.title;
      const { result } = await validate(broken);
      expect(result.valid).to.equal(false);
    });
  });

  describe('coverage', () => {
    it('describes every route the app serves', () => {
      const routes = appOperations(server);
      expect(routes, 'the walk finds the routes (control)').to.include.members(['POST /tasks', 'GET /messages/{session_id}', 'POST /push/{username}']);
      const described = new Set(documented(doc).map(([operation]) => operation));
      expect(routes.filter((route) => !described.has(route)), 'routes missing from the document').to.deep.equal([]);
    });

    it('describes no operation the app does not serve', () => {
      const routes = new Set(appOperations(server));
      expect(documented(doc).map(([operation]) => operation).filter((operation) => !routes.has(operation))).to.deep.equal([]);
    });

    it('gives every operation described responses, a success among them', () => {
      for (const [operation, { responses }] of documented(doc)) {
        expect(responses, operation).to.be.an('object');
        expect(Object.keys(responses!).some((status) => /^2\d\d$/.test(status)), `${operation} has a 2xx`).to.equal(true);
        for (const [status, response] of Object.entries(responses!)) expect(response.description, `${operation} ${status}`).to.be.a('string').and.not.be.empty;
      }
    });
  });

  describe('security', () => {
    it('declares the bearer scheme it refers to', () => {
      expect(doc.components.securitySchemes.bearer).to.include({ type: 'http', scheme: 'bearer' });
    });

    it('requires a bearer token on exactly the operations that answer 401 Bearer without one', async () => {
      for (const [operation, spec] of documented(doc)) {
        const res = await probe(operation);
        const demandsToken = res.status === 401 && /^Bearer/.test(String(res.headers['www-authenticate']));
        expect(bearerScopes(spec) !== undefined, `${operation} (answered ${res.status} without a token)`).to.equal(demandsToken);
        if (demandsToken) expect(spec.security, `${operation}: the token is not optional`).to.not.deep.include({});
      }
    });

    it('names in the bearer requirements exactly the scopes the server demands', async () => {
      for (const [operation, spec] of documented(doc)) {
        const scopes = bearerScopes(spec);
        if (scopes === undefined) continue;
        // A fresh user token without the documented scopes, and a fresh client token without push.
        const userScope = scopes.includes('tasks:read') ? 'calendar:read' : 'tasks:read';
        const tokens = [await scopedAuth(server, 'alice', userScope), (await clientAuth(server, 'push messages:write', 'messages:write')).auth];
        const demanded = new Set<string>();
        for (const auth of tokens) {
          const res = await probe(operation, auth);
          expect(res.status, `${operation} with a valid token`).to.not.equal(401);
          if (res.body.error === 'insufficient_scope') demanded.add(challengedScope(res)!);
        }
        expect([...demanded].sort(), operation).to.deep.equal(scopes);
      }
    });
  });
});
