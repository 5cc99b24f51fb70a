import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';
import type { Api } from '../http/api';

const ASSET_MAX_AGE = '365d'; // assets are named by content hash, so they never change

/** Where `npm run build` put the web client: beside src/ when run from source, beside dist/ when compiled. */
export function webRoot(): string | undefined {
  return [join(__dirname, '../../web/dist'), join(__dirname, '../../../web/dist')].find((dir) => existsSync(join(dir, 'index.html')));
}

/**
 * SPEC §7 `GET /`: the web client, as static files. Only `/` and
 * `/assets/*` are served here; everything else falls through to the API.
 */
export function webRoutes(api: Api, root = webRoot()): Router {
  const router = Router();
  if (root) router.use('/assets', express.static(join(root, 'assets'), { immutable: true, maxAge: ASSET_MAX_AGE, index: false, redirect: false }));
  api.route(
    router,
    { method: 'get', path: '/', tag: 'Web', summary: 'The web client: sign in, chats, tasks, calendar, devices', responses: { 200: { description: 'An HTML page' } } },
    (_input, _req, res) => {
      if (!root) {
        res.type('text/plain').send('The web client is not built: run `npm run build`.\n');
        return;
      }
      return new Promise<void>((resolve, reject) => {
        res.set('Cache-Control', 'no-cache').sendFile(join(root, 'index.html'), (error) => (error ? reject(error) : resolve()));
      });
    },
  );
  return router;
}
