import { expect } from 'chai';
import { createLogger } from '../../src/logger';
import { startServer } from '../support/server';
import { bearer, login, newUser } from '../support/users';
import { closeAll, connect, connectAs, expectRefused, reissue, socketPath } from './support';

interface LogEntry {
  readonly msg?: string;
  readonly url?: string;
}

describe('gateway logs (SPEC §6: tokens never appear in logs)', () => {
  const lines: string[] = [];
  const secrets: Record<string, string> = {};

  // Sockets opened and refused every way a token or ticket can travel, with every log line kept.
  before(async () => {
    const logger = createLogger('trace', { write: (line: string) => void lines.push(line) });
    const server = await startServer({}, 'sqlite', { logger });
    try {
      const alice = (await newUser(server, 'alice')).tokens;
      const other = await login(server, 'alice');
      const ticket = (await server.request.post('/ws/ticket').set(bearer(alice.access_token)).expect(201)).body.ticket as string;
      const expired = reissue(server, alice.access_token, Date.now() - 3_600_000);
      Object.assign(secrets, {
        'the query token': alice.access_token,
        'the header token': other.access_token,
        'the ticket': ticket,
        'an expired token': expired,
        'a refused token signature': expired.split('.')[2]!,
      });

      const sockets = [
        await connectAs(server, 'alice', alice.access_token),
        await connect(server, '/ws/alice', { headers: bearer(other.access_token) }),
        await connect(server, `/ws/alice?ticket=${ticket}`),
      ];
      await expectRefused(server, socketPath('alice', expired), 401, 'invalid_token');
      await expectRefused(server, `/ws/alice?ticket=${ticket}`, 401, 'invalid_token');
      await expectRefused(server, socketPath('bob', alice.access_token), 403, 'forbidden');
      sockets[0]!.send({ type: 'auth', token: other.access_token });
      await sockets[0]!.next('auth_ok');
      await closeAll(server, sockets);
    } finally {
      await server.close();
    }
  });

  it('logs each opened and each refused socket', () => {
    const entries = lines.map((line) => JSON.parse(line) as LogEntry);
    expect(entries.filter((entry) => entry.msg === 'socket opened')).to.have.length(3);
    expect(entries.filter((entry) => entry.msg === 'socket refused')).to.have.length(3);
    // The URLs are logged, query and all, with the secret parts replaced.
    expect(entries.filter((entry) => entry.url?.startsWith('/ws/alice?token='))).to.not.be.empty;
    expect(entries.filter((entry) => entry.url?.startsWith('/ws/alice?ticket='))).to.not.be.empty;
  });

  it('writes no token or ticket into any log line', () => {
    expect(Object.keys(secrets)).to.have.length(5);
    for (const [name, secret] of Object.entries(secrets)) {
      expect(lines.filter((line) => line.includes(secret)), `log lines with ${name}`).to.be.empty;
    }
  });
});
