import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAsset, isSea } from 'node:sea';
import { useSqliteNativeBinding } from '../db/connection';
import { useEmbeddedWebFiles } from '../web/web-files';
import { SQLITE_ADDON_ASSET, WEB_MANIFEST_ASSET, webAssetKey } from './binary-asset';
import { main } from './main';

/**
 * Loads the better-sqlite3 addon carried inside the single executable: an
 * addon can only be loaded from a file, so it is written to a private
 * directory under TMPDIR, loaded, and deleted at once (a process killed
 * later never runs exit hooks, so nothing waits for exit to clean up).
 */
function loadSqliteAddon(): object {
  let dir: string | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), 'tessera-addon-'));
    chmodSync(dir, 0o700);
    const file = join(dir, SQLITE_ADDON_ASSET);
    writeFileSync(file, new Uint8Array(getAsset(SQLITE_ADDON_ASSET)), { mode: 0o700 });
    const addon = { exports: {} };
    process.dlopen(addon, file);
    return addon.exports;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot load the SQLite addon under ${tmpdir()} (${reason}); set TMPDIR to a writable directory that allows executables`);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The web client (web/dist at build time) carried inside the single executable. */
function embeddedWebFiles(): Array<[string, Buffer]> {
  const paths = JSON.parse(getAsset(WEB_MANIFEST_ASSET, 'utf8')) as string[];
  return paths.map((path) => [path, Buffer.from(getAsset(webAssetKey(path)))]);
}

/** The entry point of the `tessera` single executable (and of `tsx src/cli/binary.ts`, which behaves as the CLI). */
function start(): void {
  if (isSea()) {
    try {
      useSqliteNativeBinding(loadSqliteAddon());
      useEmbeddedWebFiles(embeddedWebFiles());
    } catch (error) {
      process.stderr.write(`tessera: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
      return;
    }
  }
  // In a single executable argv[1] is the executable again, so the arguments start at 2 as under node.
  void main(process.argv.slice(2));
}

start();
