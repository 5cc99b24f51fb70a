// The Socket.IO baseline: Socket.IO 4 with its defaults on a plain node:http
// server, authenticated as its documentation shows, with an io.use()
// middleware that verifies a JWT from the CONNECT packet's `auth.token`
// (jsonwebtoken, ES256, issuer and audience checked). It verifies tessera's
// own access tokens: JWKS_JSON is tessera's published key set, so both
// servers accept the same tokens. Each socket joins the room named in
// `auth.room`; a `message` event is relayed to the rest of the room (no
// storage), shaped like a tessera message, and acknowledged.
import { createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import jwt from 'jsonwebtoken';
import { Server } from 'socket.io';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const issuer = process.env.ISSUER ?? '';
const { keys } = JSON.parse(process.env.JWKS_JSON ?? '{"keys":[]}') as { keys: Array<{ kid: string }> };
// KeyObjects, not PEM: jsonwebtoken parses a string key on every call (PERF-NOTES).
const publicKeys = new Map<string, KeyObject>(keys.map((jwk) => [jwk.kid, createPublicKey({ key: jwk, format: 'jwk' })]));

interface Claims {
  username: string;
}

const httpServer = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'application/json' }).end('{"status":"ok"}');
});
const io = new Server(httpServer, { serveClient: false });

io.use((socket, next) => {
  const token = (socket.handshake.auth as { token?: unknown }).token;
  if (typeof token !== 'string') return next(new Error('unauthorized'));
  const kid = jwt.decode(token, { complete: true })?.header.kid;
  const key = kid === undefined ? undefined : publicKeys.get(kid);
  if (!key) return next(new Error('unauthorized'));
  try {
    const claims = jwt.verify(token, key, { algorithms: ['ES256'], issuer, audience: issuer }) as Claims;
    socket.data.username = claims.username;
    next();
  } catch {
    next(new Error('unauthorized'));
  }
});

const sequences = new Map<string, number>();

io.on('connection', (socket) => {
  const room = (socket.handshake.auth as { room?: unknown }).room;
  if (typeof room === 'string') void socket.join(room);
  socket.on('message', (data: { room: string; content: string }, ack?: (message: object) => void) => {
    const seq = (sequences.get(data.room) ?? 0) + 1;
    sequences.set(data.room, seq);
    const message = {
      id: randomUUID(),
      session_id: data.room,
      seq,
      sender: socket.data.username as string,
      role: 'user',
      type: 'text',
      content: data.content,
      timestamp: new Date().toISOString(),
    };
    socket.to(data.room).emit('message', message);
    ack?.(message);
  });
});

httpServer.listen(port, host);
process.on('SIGTERM', () => {
  void io.close(() => process.exit(0));
});
