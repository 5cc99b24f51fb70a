import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';

/** One file of the built web client, ready to send. */
export interface WebFile {
  readonly body: Buffer;
  /** Strong validator of the content, so a browser revalidating it gets a 304. */
  readonly etag: string;
}

/** The built web client by path under web/dist: `index.html`, `assets/app-<hash>.js`, … */
export type WebFiles = ReadonlyMap<string, WebFile>;

let embedded: WebFiles | undefined;

/** Where `npm run build` put the web client: beside src/ when run from source, beside dist/ when compiled. */
function webRoot(): string | undefined {
  return [join(__dirname, '../../web/dist'), join(__dirname, '../../../web/dist')].find((dir) => existsSync(join(dir, 'index.html')));
}

/** Every file under `root`, as paths relative to it with `/` separators, sorted. */
export function listWebFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(root, path)).isFile())
    .map((path) => path.split(sep).join('/'))
    .sort();
}

function webFiles(contents: Iterable<readonly [string, Buffer]>): WebFiles {
  return new Map([...contents].map(([path, body]) => [path, { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` }]));
}

/**
 * Makes every server created from now on serve these files as the web
 * client (the single executable carries web/dist inside itself; src/cli/binary.ts).
 */
export function useEmbeddedWebFiles(contents: Iterable<readonly [string, Buffer]>): void {
  embedded = webFiles(contents);
}

/**
 * The web client to serve: the one embedded in the single executable, else
 * web/dist read once, else undefined when it is not built. Both are served
 * from memory by the same code, so they answer with the same headers.
 */
export function loadWebFiles(): WebFiles | undefined {
  if (embedded) return embedded;
  const root = webRoot();
  return root ? webFiles(listWebFiles(root).map((path) => [path, readFileSync(join(root, path))] as const)) : undefined;
}

/** The path of the web client's stylesheet, for the server-rendered pages to share its look; undefined when not built. */
export function webStylesheet(files: WebFiles | undefined = loadWebFiles()): string | undefined {
  const path = files && [...files.keys()].find((name) => /^assets\/style-[^/]+\.css$/.test(name));
  return path && `/${path}`;
}
