import { extname } from 'node:path';
import type { Response, Router } from 'express';
import type { Api } from '../http/api';
import { loadWebFiles, type WebFile, type WebFiles } from './web-files';

const INDEX_CACHE_CONTROL = 'no-cache'; // index.html names the current assets: revalidate it (ETag) every time
const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable'; // 365 d: assets are named by content hash, so they never change

function send(res: Response, path: string, file: WebFile, cacheControl: string): void {
  // res.send answers 304 when the request's If-None-Match matches the ETag.
  res.set({ 'Cache-Control': cacheControl, ETag: file.etag }).type(extname(path)).send(file.body);
}

/**
 * SPEC §7 `GET /`: the web client. Only `/` and `/assets/*` are served here;
 * everything else, unknown assets included, falls through to the API.
 */
export function webRoutes(api: Api, router: Router, files: WebFiles | undefined = loadWebFiles()): void {
  if (files) {
    router.use('/assets', (req, res, next) => {
      const path = `assets${req.path}`;
      const file = files.get(path);
      if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
        next();
        return;
      }
      send(res, path, file, ASSET_CACHE_CONTROL);
    });
  }
  api.route(
    router,
    { method: 'get', path: '/', tag: 'Web', summary: 'The web client: sign in, chats, tasks, calendar, devices', responses: { 200: { description: 'An HTML page' } } },
    (_input, _req, res) => {
      const index = files?.get('index.html');
      if (!index) {
        res.type('text/plain').send('The web client is not built: run `npm run build`.\n');
        return;
      }
      send(res, 'index.html', index, INDEX_CACHE_CONTROL);
    },
  );
}
