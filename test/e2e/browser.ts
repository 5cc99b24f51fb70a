import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { TestServer } from '../support/server';
import { PASSWORD } from '../support/users';

const ROOT = join(__dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';
/** Where the screenshots go (gitignored). */
export const RESULTS = join(ROOT, 'test-results');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const PHONE = { width: 390, height: 844 };
/** How long a step may wait for the page (each step is local: well under a second when things work). */
const STEP_MS = 5_000;

/** Builds web/dist with the real build script, so the suite tests what `npm run build` ships. */
function buildWebClient(): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-web.mjs')], { cwd: ROOT, stdio: 'pipe' });
}

/**
 * Debian's Chromium through playwright-core. Playwright gives every launch a
 * fresh temporary user-data dir, removed on close.
 */
function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/** A browser context (one person's browser: its own cookies) with one page on the server, phone-sized. */
export interface Person {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console lines that report a Content Security Policy violation. */
  readonly cspViolations: string[];
}

export async function openBrowser(browser: Browser, server: TestServer): Promise<Person> {
  const context = await browser.newContext({ viewport: PHONE, baseURL: server.url, deviceScaleFactor: 1 });
  context.setDefaultTimeout(STEP_MS);
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  await page.goto('/');
  return { context, page, cspViolations };
}

/** Fills the sign-in form with the keyboard and submits it (signing up first when asked), then waits for the app. */
export async function signIn(page: Page, username: string, options: { signup?: boolean } = {}): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: options.signup ? 'Create account' : 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
}

/** Saves a screenshot under test-results/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, `web-${name}.png`), fullPage: true });
}

/** The texts of the messages shown, in page order. */
export const messageTexts = (page: Page): Promise<string[]> => page.locator('.messages li p').allTextContents();

/** True when Chromium is installed; the suite then runs (in CI it must). */
const chromiumInstalled = (): boolean => existsSync(CHROMIUM);

/**
 * A suite's first step: builds the web client, then launches Chromium. In CI
 * a missing Chromium fails the suite; elsewhere the suite is skipped with the
 * reason printed.
 */
export async function prepareBrowser(suite: Mocha.Context): Promise<Browser> {
  if (!chromiumInstalled()) {
    if (process.env.CI) throw new Error(`Chromium is not installed at ${CHROMIUM}`);
    console.log(`      (skipped: no Chromium at ${CHROMIUM}; apt-get install chromium)`);
    suite.skip();
  }
  buildWebClient();
  return launchChromium();
}
