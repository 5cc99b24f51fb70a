/**
 * `npm run build:binary [-- --out-dir <dir>]`: builds `dist/tessera` (or
 * `<dir>/tessera`), one self-contained executable: a Node single executable
 * application (SPEC §1).
 *
 *   1. esbuild bundles src/cli/binary.ts and everything it imports into one
 *      CommonJS file (inside a SEA, `require` loads built-in modules only);
 *   2. `node --experimental-sea-config` turns the bundle plus the
 *      better-sqlite3 addon and the built web client (web/dist) as assets
 *      into a preparation blob;
 *   3. postject injects the blob into a copy of this node executable.
 *
 * The result runs on the build host's OS, CPU architecture, libc and Node ABI.
 * See docs/operations.md.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { SQLITE_ADDON_ASSET, WEB_MANIFEST_ASSET, webAssetKey } from '../src/cli/binary-asset';
import { listWebFiles } from '../src/web/web-files';

const ROOT = resolve(__dirname, '..');
const OUT_DIR = resolve(parseArgs({ options: { 'out-dir': { type: 'string', default: join(ROOT, 'dist') } } }).values['out-dir']);
const WORK_DIR = join(OUT_DIR, 'sea');
const BUNDLE = join(WORK_DIR, 'tessera.cjs');
const SEA_CONFIG = join(WORK_DIR, 'sea-config.json');
const WEB_MANIFEST = join(WORK_DIR, WEB_MANIFEST_ASSET);
const BLOB = join(WORK_DIR, 'tessera.blob');
const EXECUTABLE = join(OUT_DIR, process.platform === 'win32' ? 'tessera.exe' : 'tessera');
const SQLITE_ADDON = join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
const WEB_DIST = join(ROOT, 'web/dist');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

// knex requires every dialect's driver lazily, when that client is chosen; the
// binary speaks SQLite and PostgreSQL (`pg` is bundled), the rest stay out.
const UNUSED_DRIVERS = ['pg-native', 'pg-query-stream', 'mysql', 'mysql2', 'mariadb', 'oracledb', 'tedious', 'sqlite3'];

// Optional dependencies that would be bundled or `require`d at start for
// nothing: debug's terminal colours. Each becomes an empty module.
const EMPTY_MODULES = ['supports-color'];

/** Resolves the given module names to an empty CommonJS module. */
function emptyModules(names: readonly string[]): Plugin {
  const filter = new RegExp(`^(${names.map((name) => name.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})$`);
  return {
    name: 'empty-modules',
    setup(esbuild) {
      esbuild.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'empty-module' }));
      esbuild.onLoad({ filter: /.*/, namespace: 'empty-module' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
    },
  };
}

/** A path as the build log shows it: relative to the repository when inside it. */
function shown(file: string): string {
  const inside = relative(ROOT, file);
  return inside.startsWith('..') ? file : inside;
}

function step(what: string): void {
  process.stdout.write(`build:binary: ${what}\n`);
}

function run(command: string, args: readonly string[]): void {
  execFileSync(command, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}

async function bundle(): Promise<void> {
  step(`bundling src/cli/binary.ts → ${shown(BUNDLE)}`);
  await build({
    entryPoints: [join(ROOT, 'src/cli/binary.ts')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: UNUSED_DRIVERS,
    define: {
      // ws would try its optional native helpers at start; Node 20 has buffer.isUtf8.
      'process.env.WS_NO_BUFFER_UTIL': '"1"',
      'process.env.WS_NO_UTF_8_VALIDATE': '"1"',
      // The entry is src/cli/binary.ts: main.ts's own `require.main === module` start (for
      // `tsx src/cli/main.ts`) would otherwise see the bundle as its module and run a second time.
      'require.main': 'undefined',
    },
    plugins: [emptyModules(EMPTY_MODULES)],
    legalComments: 'none',
    logLevel: 'warning', // esbuild rejects on errors, after printing them
  });
}

/** The web client's files as SEA assets, plus the manifest that lists them (Node 20 cannot list a SEA's assets). */
function webAssets(): Record<string, string> {
  const paths = listWebFiles(WEB_DIST);
  step(`embedding ${shown(WEB_DIST)}: ${paths.join(', ')}`);
  writeFileSync(WEB_MANIFEST, `${JSON.stringify(paths)}\n`);
  return { [WEB_MANIFEST_ASSET]: WEB_MANIFEST, ...Object.fromEntries(paths.map((path) => [webAssetKey(path), join(WEB_DIST, path)])) };
}

function prepareBlob(): void {
  const assets = { [SQLITE_ADDON_ASSET]: SQLITE_ADDON, ...webAssets() };
  step(`writing ${shown(SEA_CONFIG)} and the preparation blob`);
  const config = {
    main: BUNDLE,
    output: BLOB,
    disableExperimentalSEAWarning: true,
    assets,
  };
  writeFileSync(SEA_CONFIG, `${JSON.stringify(config, null, 2)}\n`);
  run(process.execPath, ['--experimental-sea-config', SEA_CONFIG]);
}

function inject(): void {
  step(`copying ${process.execPath} and injecting the blob → ${shown(EXECUTABLE)}`);
  rmSync(EXECUTABLE, { force: true });
  copyFileSync(process.execPath, EXECUTABLE);
  chmodSync(EXECUTABLE, 0o755);
  const macos = process.platform === 'darwin';
  if (macos) run('codesign', ['--remove-signature', EXECUTABLE]);
  const postject = require.resolve('postject/dist/cli.js', { paths: [ROOT] });
  // postject prints "Can't find string offset for section name" warnings on Linux; they are harmless.
  run(process.execPath, [postject, EXECUTABLE, 'NODE_SEA_BLOB', BLOB, '--sentinel-fuse', SEA_FUSE, ...(macos ? ['--macho-segment-name', 'NODE_SEA'] : [])]);
  if (macos) run('codesign', ['--sign', '-', EXECUTABLE]);
  chmodSync(EXECUTABLE, 0o755);
}

async function buildBinary(): Promise<void> {
  if (!existsSync(SQLITE_ADDON)) throw new Error(`${shown(SQLITE_ADDON)} is missing; run npm ci (or npm rebuild better-sqlite3) first`);
  if (!existsSync(join(WEB_DIST, 'index.html'))) throw new Error(`${shown(WEB_DIST)} is missing; run npm run build first`);
  mkdirSync(WORK_DIR, { recursive: true });
  await bundle();
  prepareBlob();
  inject();
  const megabytes = (file: string) => `${(statSync(file).size / 1_048_576).toFixed(1)} MB`;
  step(`done: ${shown(EXECUTABLE)} (${megabytes(EXECUTABLE)}; bundle ${megabytes(BUNDLE)}) for ${process.platform}-${process.arch}, node ${process.version}`);
}

buildBinary().catch((error: unknown) => {
  process.stderr.write(`build:binary: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
