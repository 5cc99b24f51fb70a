// The bare `ws` baseline: a WebSocketServer with its defaults on a plain
// node:http server, no authentication, answering every connection with one
// frame, tessera's welcome byte for byte (WELCOME_FRAME), and nothing else.
// What tessera adds on top of it, token check and bookkeeping per socket, is
// what the handshake and memory ratios price.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const welcome = process.env.WELCOME_FRAME ?? '{"type":"welcome"}';

const server = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'application/json' }).end('{"status":"ok"}');
});
const wss = new WebSocketServer({ server });
wss.on('connection', (ws) => {
  ws.on('error', () => undefined);
  ws.send(welcome);
});

server.listen(port, host);
process.on('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  server.close(() => process.exit(0));
});
