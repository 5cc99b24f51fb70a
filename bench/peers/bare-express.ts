// The baseline: Express 5 with its defaults and no middleware beyond what a
// route needs, answering from memory with the bodies tessera gave for the same
// requests (run.ts passes them in). The ratio tessera/bare is what tessera's
// own work costs on top of the framework floor.
import express from 'express';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const me = JSON.parse(process.env.ME_BODY ?? '{}') as object;
const tokenBodies = JSON.parse(process.env.TOKEN_BODIES ?? '{}') as Record<string, object>;

const app = express();

app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});

app.get('/me', (_req, res) => {
  res.json(me);
});

app.post('/token', express.urlencoded({ extended: false }), (req, res) => {
  const grantType = (req.body as Record<string, unknown> | undefined)?.grant_type;
  const body = typeof grantType === 'string' ? tokenBodies[grantType] : undefined;
  if (!body) {
    res.status(400).json({ error: 'unsupported_grant_type' });
    return;
  }
  res.set('Cache-Control', 'no-store').json(body);
});

const server = app.listen(port, host);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
