// The storeless relay baseline for the message path: bare `ws` on a plain
// node:http server, no authentication, no storage. A socket joins the room
// named in `?room=`; a tessera `message` frame is turned into a message
// (id, seq per room, timestamp), serialised once, relayed to the room's
// other sockets and acknowledged to the sender, with tessera's frames. It is
// the floor of what carrying a chat message costs on this machine.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

interface Room {
  readonly sockets: Set<WebSocket>;
  seq: number;
}

const rooms = new Map<string, Room>();

const server = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'application/json' }).end('{"status":"ok"}');
});
const wss = new WebSocketServer({ server });
wss.on('connection', (ws, req) => {
  const name = new URL(req.url ?? '/', 'http://relay').searchParams.get('room') ?? '';
  let room = rooms.get(name);
  if (!room) rooms.set(name, (room = { sockets: new Set(), seq: 0 }));
  const joined = room;
  joined.sockets.add(ws);
  ws.on('error', () => undefined);
  ws.on('close', () => joined.sockets.delete(ws));
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { session_id: string; content: string; nonce?: string };
    joined.seq += 1;
    const message = { id: randomUUID(), session_id: frame.session_id, seq: joined.seq, sender: name, role: 'user', type: 'text', content: frame.content, timestamp: new Date().toISOString() };
    const delivery = Buffer.from(JSON.stringify({ type: 'message', message }));
    for (const other of joined.sockets) if (other !== ws) other.send(delivery, { binary: false });
    ws.send(JSON.stringify({ type: 'ack', nonce: frame.nonce ?? null, message }));
  });
  ws.send('{"type":"welcome"}');
});

server.listen(port, host);
process.on('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  server.close(() => process.exit(0));
});
