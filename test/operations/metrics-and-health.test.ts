import { expect } from 'chai';
import { startServer, type TestServer } from '../support/server';
import { bearer, login, newUser, PASSWORD } from '../support/users';

const METRICS_TOKEN = 'metrics-token-0123456789';

/** The value of one sample line, e.g. `tessera_tokens_issued_total{grant="password"}`; 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('health, readiness and metrics', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ METRICS_TOKEN, RATE_LIMIT_LOGIN_FAILURES: '2' });
  });
  after(() => server.close());

  const metrics = async () => {
    const res = await server.request.get('/metrics').set(bearer(METRICS_TOKEN));
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.match(/^text\/plain/);
    return res.text;
  };

  it('answers /healthz while the process is up', async () => {
    const res = await server.request.get('/healthz');
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ status: 'ok' });
  });

  it('answers /readyz with the database check when no Redis is configured', async () => {
    const res = await server.request.get('/readyz');
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ status: 'ok', checks: { database: 'ok' } });
  });

  it('answers /readyz with 503 naming both Redis connections, and nothing of their errors, when Redis does not answer', async () => {
    const unready = await startServer({ REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const res = await unready.request.get('/readyz');
      expect(res.status).to.equal(503);
      expect(res.body.status).to.equal('unavailable');
      expect(res.body.checks.database).to.equal('ok');
      expect(res.body.checks).to.deep.equal({ database: 'ok', redis: 'unavailable', redis_pubsub: 'unavailable' });
      // The probe is public: no host, port or error text of the failing connection.
      expect(res.text).to.not.match(/127\.0\.0\.1|ECONNREFUSED|:1\b|connect|timed out/i);
    } finally {
      await unready.close();
    }
  });

  it('refuses /metrics in production when METRICS_TOKEN is unset (403), and serves it without one outside production', async () => {
    for (const [env, status] of [[{ NODE_ENV: 'production' }, 403], [{}, 200]] as const) {
      const open = await startServer(env);
      try {
        const res = await open.request.get('/metrics');
        expect(res.status, JSON.stringify(env)).to.equal(status);
        if (status === 403) expect(res.body.error).to.equal('forbidden');
      } finally {
        await open.close();
      }
    }
  });

  it('refuses /metrics without the METRICS_TOKEN, and with a wrong one', async () => {
    expect((await server.request.get('/metrics')).status).to.equal(401);
    const wrong = await server.request.get('/metrics').set(bearer('not-the-metrics-token'));
    expect(wrong.status).to.equal(401);
    expect(wrong.body.error).to.equal('invalid_token');
  });

  it('counts tokens by grant, failed logins and rate-limited requests', async () => {
    const before = await metrics();
    await newUser(server, 'alice');
    for (let i = 0; i < 3; i += 1) {
      await server.request.post('/token').type('form').send({ grant_type: 'password', username: 'alice', password: 'wrong-password' });
    }
    const after = await metrics();
    expect(sample(after, 'tessera_tokens_issued_total{grant="password"}') - sample(before, 'tessera_tokens_issued_total{grant="password"}')).to.equal(1);
    expect(sample(after, 'tessera_failed_logins_total') - sample(before, 'tessera_failed_logins_total')).to.equal(2);
    expect(sample(after, 'tessera_rate_limited_total{limit="login"}') - sample(before, 'tessera_rate_limited_total{limit="login"}')).to.equal(1);
  });

  it('labels HTTP metrics by route template, never by the raw path with ids', async () => {
    const { tokens } = await newUser(server, 'bob');
    const created = await server.request.post('/tasks').set(bearer(tokens.access_token)).send({ title: 'count me' });
    await server.request.get(`/tasks/${created.body.id}`).set(bearer(tokens.access_token));
    const text = await metrics();
    expect(text).to.include('tessera_http_requests_total{method="GET",route="/tasks/:id",status="200"}');
    expect(text).not.to.include(created.body.id);
    expect(text).to.match(/tessera_http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/tasks\/:id"\}/);
  });

  it('counts refresh-token reuse', async () => {
    const reuse = await startServer({ REFRESH_REUSE_GRACE: '0' });
    try {
      await newUser(reuse, 'carol');
      const tokens = await login(reuse, 'carol', PASSWORD);
      await reuse.request.post('/token').type('form').send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      const replay = await reuse.request.post('/token').type('form').send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      expect(replay.status).to.equal(400);
      const text = (await reuse.request.get('/metrics')).text;
      expect(sample(text, 'tessera_refresh_reuse_detected_total')).to.equal(1);
    } finally {
      await reuse.close();
    }
  });
});
