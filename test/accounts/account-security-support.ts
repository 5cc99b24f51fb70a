import { expect } from 'chai';
import { createHash, createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { base32Decode, totp } from '../../src/accounts/two-factor-totp';
import type { TestServer } from '../support/server';
import { bearer, PASSWORD } from '../support/users';

/** How long a test waits for a mail before it fails. */
const MAIL_WAIT_MS = 3_000;

/** A mail as the SMTP server received it. */
export interface CapturedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  /** The body, with quoted-printable soft breaks and escapes undone. */
  readonly text: string;
}

/** RFC 2045 §6.7 quoted-printable, as far as a plain-text mail needs. */
const unquote = (body: string) => body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));

function parse(raw: string, from: string, to: string[]): CapturedMail {
  const split = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const subject = /^Subject: (.*)$/im.exec(headers)?.[1] ?? '';
  const quoted = /^Content-Transfer-Encoding: quoted-printable$/im.test(headers);
  const body = raw.slice(split + 4);
  return { from, to, subject, text: quoted ? unquote(body) : body };
}

/** A real SMTP server on 127.0.0.1 (port 0) that keeps every mail it is given: tessera's SMTP_URL in a test. */
export class Mailbox {
  readonly mails: CapturedMail[] = [];
  private readonly waiters = new Set<() => void>();
  /** How many mails to each address `next` has handed out. */
  private readonly taken = new Map<string, number>();

  private readonly server = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        this.receive(parse(Buffer.concat(chunks).toString('utf8'), from, session.envelope.rcptTo.map((rcpt) => rcpt.address)));
        callback();
      });
    },
  });

  private constructor() {}

  static async start(): Promise<Mailbox> {
    const box = new Mailbox();
    await new Promise<void>((resolve) => box.server.listen(0, '127.0.0.1', resolve));
    return box;
  }

  /** The SMTP_URL that reaches this mailbox. */
  get url(): string {
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  /** The mails to `address` so far (in any letter case: nodemailer lower-cases the domain). */
  to(address: string): CapturedMail[] {
    return this.mails.filter((mail) => mail.to.some((to) => to.toLowerCase() === address.toLowerCase()));
  }

  /** The first mail to `address` not taken yet, waiting (bounded) for it: each call takes the next one, however soon it came. */
  async next(address: string): Promise<CapturedMail> {
    const key = address.toLowerCase();
    const count = (this.taken.get(key) ?? 0) + 1;
    this.taken.set(key, count);
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.to(address).length < count) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no mail number ${count} to ${address} within ${MAIL_WAIT_MS} ms`));
      }, MAIL_WAIT_MS);
      this.waiters.add(check);
      check();
    });
    return this.to(address)[count - 1]!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private receive(mail: CapturedMail): void {
    this.mails.push(mail);
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** The 6-digit code a mail carries on a line of its own. */
export function codeIn(mail: CapturedMail): string {
  const code = /^\s*(\d{6})\s*$/m.exec(mail.text)?.[1];
  expect(code, `a code in ${JSON.stringify(mail.text)}`).to.be.a('string');
  return code!;
}

/** The address a test gives `username`. */
export const emailOf = (username: string): string => `${username}@example.test`;

/** A six-digit code that is not `code`. */
export const wrongCode = (code: string): string => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** SHA-256 of the parts joined with NUL, as hex: the unkeyed hash a leaked row must not match. */
export const sha256Hex = (...parts: string[]): string => createHash('sha256').update(parts.join('\0')).digest('hex');

/** HMAC-SHA-256 of the parts joined with NUL under `key`, as hex: how tessera stores an e-mailed code. */
export const hmacHex = (key: string, ...parts: string[]): string => createHmac('sha256', key).update(parts.join('\0')).digest('hex');

/** A clock the test moves: real time plus an offset, or frozen at an instant. */
export class TestClock {
  private offset = 0;
  private frozenAt: number | undefined;
  readonly now = (): number => (this.frozenAt ?? Date.now()) + this.offset;

  advance(ms: number): void {
    this.offset += ms;
  }

  freeze(at: number): void {
    this.frozenAt = at;
    this.offset = 0;
  }
}

/** The secret of an `otpauth://` URI, as an authenticator app reads it. */
export const secretOf = (otpauthUri: string): Buffer => base32Decode(new URL(otpauthUri).searchParams.get('secret')!);

/** What an authenticator app shows at `at` for this secret. */
export const otpAt = (secret: Buffer, at: number): string => totp(secret, at);

/** Turns two-factor sign-in on through the API (with the user's `password`); returns the secret and the recovery codes. */
export async function enableTwoFactor(server: TestServer, accessToken: string, clock: TestClock, password = PASSWORD): Promise<{ secret: Buffer; recoveryCodes: string[] }> {
  const enrol = await server.request.post('/me/2fa').set(bearer(accessToken)).send({ password });
  expect(enrol.status, JSON.stringify(enrol.body)).to.equal(201);
  const secret = secretOf(enrol.body.otpauth_uri as string);
  const confirm = await server.request.post('/me/2fa/confirm').set(bearer(accessToken)).send({ otp: otpAt(secret, clock.now()) });
  expect(confirm.status, JSON.stringify(confirm.body)).to.equal(204);
  return { secret, recoveryCodes: enrol.body.recovery_codes as string[] };
}

/** A password grant that must answer `mfa_required`; returns its mfa_token. */
export async function mfaToken(server: TestServer, username: string, password: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await server.request.post('/token').type('form').send({ grant_type: 'password', username, password, ...extra });
  expect(res.status, JSON.stringify(res.body)).to.equal(400);
  expect(res.body.error).to.equal('mfa_required');
  return res.body.mfa_token as string;
}

export const MFA_GRANT = 'urn:tessera:params:oauth:grant-type:mfa';

/** The mfa grant with the built-in client (or the given headers / fields). */
export const mfaGrant = (server: TestServer, token: string, otp: string, extra: Record<string, string> = {}) =>
  server.request.post('/token').type('form').send({ grant_type: MFA_GRANT, mfa_token: token, otp, ...extra });
