import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../support/server';

const WEB_DIST = join(__dirname, '../../web/dist');

describe('the web client at GET / and /assets/* (SPEC §7)', () => {
  let server: TestServer;
  let scriptPath: string;
  before(async () => {
    server = await startServer();
    scriptPath = /src="(assets\/[^"]+\.js)"/.exec(readFileSync(join(WEB_DIST, 'index.html'), 'utf8'))![1]!;
  });
  after(() => server.close());

  /** A GET with the body as bytes. */
  async function get(path: string) {
    const res = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  it('serves web/dist/index.html at / as HTML to revalidate every time, under the Content-Security-Policy', async () => {
    const res = await get('/');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).to.equal('no-cache');
    expect(res.headers.get('content-security-policy')).to.include("default-src 'self'").and.include("connect-src 'self'");
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(res.headers.get('etag')).to.match(/^"[^"]+"$/);
    expect(res.body.equals(readFileSync(join(WEB_DIST, 'index.html')))).to.equal(true);
  });

  it('serves the assets index.html names, cached for good (their names carry their content hash)', async () => {
    const res = await get(`/${scriptPath}`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    expect(res.headers.get('content-security-policy')).to.include("default-src 'self'");
    expect(res.body.equals(readFileSync(join(WEB_DIST, scriptPath)))).to.equal(true);
  });

  it('answers 304 to a request that already holds the current version', async () => {
    for (const path of ['/', `/${scriptPath}`]) {
      const { etag } = (await server.request.get(path)).headers as { etag: string };
      const again = await server.request.get(path).set('If-None-Match', etag);
      expect(again.status, path).to.equal(304);
      expect(again.text, path).to.equal('');
    }
  });

  it('answers an unknown asset, and a POST to an asset, like any unknown route (404 not_found)', async () => {
    for (const res of [await server.request.get('/assets/no-such-file.js'), await server.request.post(`/${scriptPath}`)]) {
      expect(res.status).to.equal(404);
      expect(res.body.error).to.equal('not_found');
    }
  });
});
