// Browser builds with esbuild: the tessera/client bundle (client/dist/tessera-client.min.js)
// and the web app served at GET / (web/dist: index.html + content-hashed assets).
// Run after `tsc -p client/tsconfig.json`, which writes the client's ESM and .d.ts to client/dist.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const clientEntry = join(root, 'client/src/index.ts');
const target = ['es2022', 'chrome110', 'firefox115', 'safari16'];

/** The minified browser bundle of tessera/client; returns its size in bytes, raw and gzipped. */
export async function buildClientBundle() {
  const outfile = join(root, 'client/dist/tessera-client.min.js');
  await build({ entryPoints: [clientEntry], outfile, bundle: true, minify: true, format: 'esm', target, logLevel: 'warning' });
  // The package root is CommonJS; the client's dist is ESM.
  writeFileSync(join(root, 'client/dist/package.json'), `${JSON.stringify({ type: 'module' })}\n`);
  const code = readFileSync(outfile);
  return { bytes: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

/** The web app into web/dist: assets named by content hash (cached for good), index.html pointing at them. */
export async function buildWeb() {
  const out = join(root, 'web/dist');
  rmSync(out, { recursive: true, force: true });
  const result = await build({
    entryPoints: { app: join(root, 'web/src/main.ts'), style: join(root, 'web/src/style.css') },
    outdir: join(out, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target,
    alias: { 'tessera/client': clientEntry },
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => `assets/${basename(file)}`);
  const asset = (extension) => outputs.find((file) => file.endsWith(extension));
  const html = readFileSync(join(root, 'web/index.html'), 'utf8').replace('%APP_JS%', asset('.js')).replace('%APP_CSS%', asset('.css'));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'index.html'), html);
  return outputs;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  mkdirSync(join(root, 'client/dist'), { recursive: true });
  const size = await buildClientBundle();
  const assets = await buildWeb();
  console.log(`tessera/client: ${size.bytes} B minified, ${size.gzip} B gzipped; web: ${assets.join(', ')}`);
}
