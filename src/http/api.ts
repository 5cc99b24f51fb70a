import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import type { Principal } from '../auth/access-tokens';
import type { BearerOptions, RequireToken } from './bearer';
import { parse, type Dialect } from './validation';

type Method = 'get' | 'post' | 'patch' | 'delete';
type Schema = z.ZodType;

/** One documented response of a route. */
export interface ResponseSpec {
  readonly description: string;
  readonly schema?: Schema;
  /** Response headers worth documenting (`Location`, `Link`, `Set-Cookie`). */
  readonly headers?: readonly string[];
}

/**
 * Everything about one route, written once: the router validates with it
 * and `GET /openapi.json` is generated from it.
 */
export interface RouteSpec<P extends Schema = Schema, Q extends Schema = Schema, B extends Schema = Schema> {
  readonly method: Method;
  /** Express path, e.g. `/tasks/:id`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  /** Bearer token requirements; absent for public routes. */
  readonly auth?: BearerOptions;
  /** OAuth client authentication (Basic or body) instead of a bearer token. */
  readonly clientAuth?: boolean;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  /** A body that is documented here but parsed by the handler (OAuth: parameters depend on the grant). */
  readonly documentedBody?: Schema;
  /** Body media types; JSON by default, OAuth endpoints take forms too. */
  readonly bodyTypes?: readonly string[];
  /** How validation failures are reported (RFC 6749 on OAuth endpoints). */
  readonly dialect?: Dialect;
  /** Route-specific middleware run before validation, e.g. rate limits. */
  readonly before?: readonly RequestHandler[];
  /** Like `before`, but after the bearer check: limits counted per user. */
  readonly afterAuth?: readonly RequestHandler[];
  readonly responses: Readonly<Record<number, ResponseSpec>>;
}

/** What a handler receives: validated input and the caller. */
export interface RouteInput<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** Present whenever the route has `auth`. */
  readonly principal: Principal;
}

type Out<S> = S extends Schema ? z.output<S> : undefined;

export type RouteHandler<P, Q, B> = (input: RouteInput<P, Q, B>, req: Request, res: Response) => Promise<void> | void;

/** The registry of every REST route: registration, validation and documentation in one place. */
export class Api {
  readonly routes: RouteSpec[] = [];

  constructor(private readonly requireToken: RequireToken) {}

  /** Registers a route on `router` with its bearer check and validation, and records it for the document. */
  route<P extends Schema, Q extends Schema, B extends Schema>(
    router: Router,
    spec: RouteSpec<P, Q, B>,
    handler: RouteHandler<Out<P>, Out<Q>, Out<B>>,
  ): void {
    this.routes.push(spec as unknown as RouteSpec);
    const dialect = spec.dialect ?? 'rest';
    const guards: RequestHandler[] = [...(spec.before ?? [])];
    if (spec.auth) guards.push(this.requireToken(spec.auth));
    guards.push(...(spec.afterAuth ?? []));
    const validated: RequestHandler = async (req, res) => {
      const input = {
        params: (spec.params ? parse(spec.params, req.params, dialect) : undefined) as Out<P>,
        query: (spec.query ? parse(spec.query, req.query, dialect) : undefined) as Out<Q>,
        body: (spec.body ? parse(spec.body, req.body ?? {}, dialect) : undefined) as Out<B>,
        principal: req.principal as Principal,
      };
      await handler(input, req, res);
    };
    router[spec.method](spec.path, ...guards, validated);
  }
}
