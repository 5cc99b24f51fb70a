// The single executable's SEA assets: scripts/build-binary.ts stores them, src/cli/binary.ts reads them.

/** better-sqlite3's addon. */
export const SQLITE_ADDON_ASSET = 'better_sqlite3.node';

/** A JSON array of the web client's paths under web/dist; each file is the asset `webAssetKey(path)`. */
export const WEB_MANIFEST_ASSET = 'web-files.json';

export const webAssetKey = (path: string): string => `web/${path}`;
