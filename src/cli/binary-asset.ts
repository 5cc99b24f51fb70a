/** The SEA asset key of better-sqlite3's addon: scripts/build-binary.ts stores it, src/cli/binary.ts loads it. */
export const SQLITE_ADDON_ASSET = 'better_sqlite3.node';
