import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { expect } from 'chai';
import { startServer, type TestServer } from '../support/server';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly continued: boolean;
}

/** One request over loopback; with `expectContinue`, the body goes only once the server said 100 Continue. */
function send(server: TestServer, method: string, path: string, body?: string, expectContinue = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    if (expectContinue) headers.expect = '100-continue';
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method, path, headers, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, continued }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    if (!expectContinue) req.end(body);
  });
}

describe('HTTP server', () => {
  let server: TestServer;
  const seen: Array<[IncomingMessage, ServerResponse]> = [];
  const record = (req: IncomingMessage, res: ServerResponse) => void seen.push([req, res]);

  before(async () => {
    server = await startServer({ RATE_LIMITS: 'off' });
    server.tessera.server.prependListener('request', record);
  });
  after(async () => {
    server.tessera.server.off('request', record);
    await server.close();
  });

  it("hands the app requests and responses built with Express's prototypes, before Express sees them", async () => {
    seen.length = 0;
    expect((await send(server, 'GET', '/healthz')).status).to.equal(200);
    const [req, res] = seen[0]!;
    expect(Object.getPrototypeOf(req)).to.equal(server.tessera.app.request);
    expect(Object.getPrototypeOf(res)).to.equal(server.tessera.app.response);
  });

  it('answers HEAD with the status of GET and no body', async () => {
    const answer = await send(server, 'HEAD', '/healthz');
    expect(answer.status).to.equal(200);
    expect(answer.body).to.equal('');
  });

  it('takes a body sent only after 100 Continue', async () => {
    const answer = await send(server, 'POST', '/signup', JSON.stringify({ username: 'carol', password: 'a-long-enough-password' }), true);
    expect(answer.continued).to.equal(true);
    expect(answer.status).to.equal(201);
    expect(JSON.parse(answer.body)).to.include({ username: 'carol' });
  });
});
