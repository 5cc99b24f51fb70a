import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { notFound } from '../errors';
import type { Services } from '../services';
import type { TenantDirectory } from './tenant-directory';
import type { TenantTarget } from './tenant-target';

/**
 * SPEC §8 for REST: picks the tenant of a request by host name or
 * `/t/<id>` prefix and hands it to that tenant's routes (built on first
 * use) with the prefix taken off the path and kept in `req.baseUrl`, so
 * `Location` and `Link` headers point back under it. Requests for the
 * built-in tenant go on to its routes, mounted after this.
 */
export function tenantRouting(tenants: TenantDirectory, routesOf: (services: Services) => Router): RequestHandler {
  const routers = new WeakMap<Services, Router>();
  const serveOther = async (target: TenantTarget | undefined, req: Request, res: Response, next: NextFunction) => {
    const services = target && (await tenants.get(target.tenantId));
    if (!target || !services) throw notFound('tenant');
    let router = routers.get(services);
    if (!router) {
      router = routesOf(services);
      routers.set(services, router);
    }
    const query = req.url.indexOf('?');
    req.url = target.path + (query < 0 ? '' : req.url.slice(query));
    req.baseUrl = target.basePath;
    // A path the tenant's routes do not serve is a 404 here: it must not fall through to the built-in tenant's.
    router(req, res, (error?: unknown) => next(error ?? notFound('route')));
  };
  // Synchronous for the built-in tenant: this runs on every request.
  return (req, res, next) => {
    const target = tenants.target(req.headers.host, req.path);
    if (target?.tenantId === tenants.root.tenantId) return next();
    return serveOther(target, req, res, next);
  };
}
