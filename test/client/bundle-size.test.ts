import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const LIMIT_BYTES = 8 * 1024; // gzipped: what a browser downloads

describe('client: browser bundle', () => {
  it('builds tessera/client into one minified file under 8 KiB gzipped', function () {
    this.timeout(20_000);
    // The real build script (npm run build runs it), which prints the bundle's sizes.
    const printed = execFileSync(process.execPath, [join(ROOT, 'scripts/build-web.mjs')], { cwd: ROOT, encoding: 'utf8' });
    const gzip = /tessera\/client: \d+ B minified, (\d+) B gzipped/.exec(printed)?.[1];
    expect(gzip, printed).to.be.a('string');
    expect(Number(gzip), printed).to.be.below(LIMIT_BYTES);
  });
});
