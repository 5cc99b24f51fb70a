import { expect } from 'chai';
import { decodeJwt } from '../support/oauth';
import { startServer, type TestServer } from '../support/server';
import { bearer, login, signup } from '../support/users';

const ACCESS_TOKEN_TTL_S = 60;
/** How often every process reloads keys from the database (README "Signing keys"): the most a process lags behind a rotation it did not hear of. */
const KEY_RELOAD_S = 60;
const LEEWAY_S = 5; // SPEC §3.3
/** The documented rule: a retired key stays published for the access-token lifetime plus the reload interval (plus leeway). */
const RETIRED_KEY_LIFETIME_S = ACCESS_TOKEN_TTL_S + KEY_RELOAD_S + LEEWAY_S;
const MARGIN_S = 10;

const kidOf = (token: string) => decodeJwt(token).header.kid as string;

/** The published keys of JWT_ALG (ES256): the RS256 ones beside them sign only id tokens here. */
async function publishedKids(server: TestServer): Promise<string[]> {
  const res = await server.request.get('/.well-known/jwks.json');
  expect(res.status).to.equal(200);
  return (res.body as { keys: Array<{ kid: string; alg: string }> }).keys.filter((key) => key.alg === 'ES256').map((key) => key.kid);
}

// Two processes on one database and no bus between them: the one that rotates, and one that only learns
// of the new key at its next periodic reload and meanwhile keeps signing with the retired one.
describe('signing key rotation while another process still signs with the retired key (SPEC §3.4)', () => {
  let rotating: TestServer;
  let lagging: TestServer;
  before(async () => {
    rotating = await startServer({ ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_S) });
    lagging = await startServer({ ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_S), DATABASE_URL: rotating.databaseUrl });
    await signup(rotating, 'alice');
  });
  after(async () => {
    await lagging?.close();
    await rotating?.close();
  });

  it('keeps the retired key published and verifying for ACCESS_TOKEN_TTL + the key reload interval after the rotation, and drops it after', async () => {
    const oldKid = kidOf((await login(lagging, 'alice')).access_token);
    // The rotation is placed in the past: just inside the retired key's lifetime, past the token lifetime alone.
    const rotatedAt = Date.now() - (RETIRED_KEY_LIFETIME_S - MARGIN_S) * 1000;
    const newKid = await rotating.tessera.services.keys.rotate(rotatedAt);
    expect(newKid).to.not.equal(oldKid);

    const fromLagging = (await login(lagging, 'alice')).access_token;
    expect(kidOf(fromLagging), 'the lagging process has not reloaded yet').to.equal(oldKid);
    expect(kidOf((await login(rotating, 'alice')).access_token)).to.equal(newKid);

    await rotating.tessera.services.keys.load(); // the rotating process's own periodic reload, now
    expect(await publishedKids(rotating)).to.have.members([newKid, oldKid]);
    const me = await rotating.request.get('/me').set(bearer(fromLagging));
    expect(me.status, JSON.stringify(me.body)).to.equal(200);
    expect(me.body).to.include({ username: 'alice' });

    await rotating.tessera.services.keys.load(rotatedAt + (RETIRED_KEY_LIFETIME_S + MARGIN_S) * 1000);
    expect(await publishedKids(rotating)).to.deep.equal([newKid]);
  });

  it('signs with the new key on the lagging process once it reloaded', async () => {
    const [newKid] = await publishedKids(rotating);
    await lagging.tessera.services.keys.load();
    expect(kidOf((await login(lagging, 'alice')).access_token)).to.equal(newKid);
  });
});
