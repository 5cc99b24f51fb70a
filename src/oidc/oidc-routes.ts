import type { RequestHandler, Router } from 'express';
import type { Api } from '../http/api';
import type { Services } from '../services';
import { discoveryRoutes } from './discovery';
import { registrationRoutes } from './registration';
import { userInfoRoutes } from './userinfo';

export interface OidcLimits {
  readonly registration: RequestHandler;
}

/** SPEC §10's endpoints that are not the authorization server's interaction: discovery, UserInfo, registration. */
export function oidcRoutes(api: Api, router: Router, services: Services, limits: OidcLimits): void {
  discoveryRoutes(api, router, services);
  userInfoRoutes(api, router, services);
  registrationRoutes(api, router, services, limits.registration);
}
