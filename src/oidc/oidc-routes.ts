import type { Router } from 'express';
import type { Api } from '../http/api';
import type { Services } from '../services';
import { discoveryRoutes } from './discovery';
import { userInfoRoutes } from './userinfo';

/** SPEC §10's endpoints that are not the authorization server's interaction: discovery, UserInfo. */
export function oidcRoutes(api: Api, router: Router, services: Services): void {
  discoveryRoutes(api, router, services);
  userInfoRoutes(api, router, services);
}
