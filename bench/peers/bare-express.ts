// The baseline for resources: Express 5 with its defaults and no middleware,
// answering from memory with the bodies tessera gave for the same requests
// (the orchestrator passes them in). The ratio tessera/bare is what
// tessera's own work costs on top of the framework floor. With
// PROTOTYPES=constructed its HTTP server makes requests and responses the
// way tessera's does (src/server.ts, expressConstructors), the floor under tessera's own work.
import { createServer } from 'node:http';
import express from 'express';
import { expressConstructors } from '../../src/server';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const me = JSON.parse(process.env.ME_BODY ?? '{}') as object;
const tasks = JSON.parse(process.env.TASKS_BODY ?? '[]') as unknown;

const app = express();

app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});

app.get('/me', (_req, res) => {
  res.json(me);
});

app.get('/tasks', (_req, res) => {
  res.json(tasks);
});

const server =
  process.env.PROTOTYPES === 'constructed'
    ? createServer(expressConstructors(app), app)
    : createServer(app);
server.listen(port, host);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
