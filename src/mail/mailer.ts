import nodemailer from 'nodemailer';
import type { Config } from '../config';
import type { Logger } from '../logger';

/** One plain-text mail. */
export interface Mail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/**
 * Sends mail in the background: a request never waits for SMTP, so an
 * answer takes as long whether or not a mail went out (SPEC §8 forgot).
 */
export interface Mailer {
  send(mail: Mail): void;
  /** Waits (bounded) for mail in flight, then closes the transport. */
  close(): Promise<void>;
}

const CLOSE_WAIT_MS = 3_000; // leaves SIGTERM's 10 s for the rest of shutdown
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 }; // ms

/** Runs sends as tracked background work whose failures are logged without the mail's text (it carries codes). */
function backgroundSender(logger: Logger, deliver: (mail: Mail) => Promise<unknown>, closeTransport: () => void = () => undefined): Mailer {
  const inFlight = new Set<Promise<unknown>>();
  return {
    send(mail) {
      const delivery = deliver(mail)
        .catch((error: unknown) => logger.warn({ subject: mail.subject, err: error instanceof Error ? error.message : String(error) }, 'mail delivery failed'))
        .finally(() => inFlight.delete(delivery));
      inFlight.add(delivery);
    },
    async close() {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
      await Promise.race([Promise.allSettled([...inFlight]), deadline]);
      clearTimeout(timer);
      closeTransport();
    },
  };
}

/**
 * SMTP through nodemailer when SMTP_URL is set. Without it, development
 * writes each mail (codes included) to the log at info so a person can
 * sign up locally; production logs only that a mail could not be sent.
 */
export function createMailer(config: Config, logger: Logger): Mailer {
  const log = logger.child({ component: 'mail' });
  if (config.mail.smtpUrl) {
    const transport = nodemailer.createTransport({ url: config.mail.smtpUrl, ...SMTP_TIMEOUTS }, { from: config.mail.from });
    return backgroundSender(log, (mail) => transport.sendMail(mail), () => transport.close());
  }
  if (config.production) {
    return backgroundSender(log, async (mail) => log.warn({ subject: mail.subject }, 'mail not sent: SMTP_URL is unset'));
  }
  return backgroundSender(log, async (mail) => log.info({ mail_to: mail.to, subject: mail.subject, text: mail.text }, 'mail written to the log (SMTP_URL is unset)'));
}

/** The start-up warning for a server that cannot mail, or undefined when SMTP is configured. */
export function mailWarning(config: Config): string | undefined {
  if (config.mail.smtpUrl) return undefined;
  return config.production
    ? 'SMTP_URL is unset: verification and password reset codes cannot be mailed'
    : 'SMTP_URL is unset: verification and password reset codes are written to this log (development only)';
}
