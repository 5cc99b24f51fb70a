import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const BLOCK_SIZE = 8; // r
const PARALLELISM = 1; // p
// At most this many hashes run at once (the libuv pool has 4 threads), so a
// burst of logins queues here instead of starving file and DNS work.
const MAX_HASHES_IN_FLIGHT = 3;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFC'), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

let inFlight = 0;
const waiting: Array<() => void> = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (inFlight >= MAX_HASHES_IN_FLIGHT) await new Promise<void>((resolve) => waiting.push(resolve));
  inFlight += 1;
  try {
    return await work();
  } finally {
    inFlight -= 1;
    waiting.shift()?.();
  }
}

const costOptions = (logN: number, r: number, p: number): ScryptOptions => ({
  N: 2 ** logN,
  r,
  p,
  maxmem: 256 * 2 ** logN * r + 1024 * 1024,
});

/** Hashes a password as `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64url), parameters in the string. */
export async function hashPassword(password: string, logN: number): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const hash = await limited(() => scrypt(password, salt, costOptions(logN, BLOCK_SIZE, PARALLELISM)));
  return `$scrypt$ln=${logN},r=${BLOCK_SIZE},p=${PARALLELISM}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

const HASH_FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** True when `password` matches `stored`; false for a wrong password or an unreadable hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = HASH_FORMAT.exec(stored);
  if (!match) return false;
  const [, logN, r, p, salt, hash] = match;
  const expected = Buffer.from(hash!, 'base64url');
  const actual = await limited(() => scrypt(password, Buffer.from(salt!, 'base64url'), costOptions(Number(logN), Number(r), Number(p))));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** True when a stored hash was made with a cost other than today's and should be redone at the next login. */
export function needsRehash(stored: string, logN: number): boolean {
  const match = HASH_FORMAT.exec(stored);
  return !match || Number(match[1]) !== logN || Number(match[2]) !== BLOCK_SIZE || Number(match[3]) !== PARALLELISM;
}
