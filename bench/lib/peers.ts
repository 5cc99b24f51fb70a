import { join } from 'node:path';
import { freePort, waitForHealth, type Children } from './children';
import { ROOT } from './paths';
import { SERVER_CORE, type Server } from './tessera';

/** The baselines in bench/peers/, each a small file; README.md says how each is configured. */
export type PeerName = 'bare-express' | 'express-constructed' | 'bare-ws' | 'ws-relay' | 'socketio' | 'oauth2-server';

/** The file in bench/peers/ each baseline runs (express-constructed is bare Express with PROTOTYPES=constructed). */
const PEER_FILES: Record<PeerName, string> = {
  'bare-express': 'bare-express',
  'express-constructed': 'bare-express',
  'bare-ws': 'bare-ws',
  'ws-relay': 'ws-relay',
  socketio: 'socketio',
  'oauth2-server': 'oauth2-server',
};

/** Starts a peer pinned to the server core, as tessera is; resolves once its /healthz answers. */
export async function startPeer(children: Children, dir: string, name: PeerName, env: Readonly<Record<string, string>>): Promise<Server> {
  const port = await freePort();
  const logFile = join(dir, `${name}.log`);
  const child = children.start({
    core: SERVER_CORE,
    command: [process.execPath, '--require', 'tsx/cjs', join(ROOT, 'bench', 'peers', `${PEER_FILES[name]}.ts`)],
    env: { PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production', ...env },
    cwd: ROOT,
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(`${url}/healthz`, child, name, logFile);
  return { url, port, pid: child.pid!, child };
}
