import type { Mail } from './mailer';

/** What an e-mailed code is for; each purpose has its own mail and its own code. */
export type CodePurpose = 'verify_email' | 'reset_password';

const TEXTS: Record<CodePurpose, { subject: string; intro: string; ignore: string }> = {
  verify_email: {
    subject: 'Your tessera verification code',
    intro: 'Enter this code to finish creating the account',
    ignore: 'If you did not sign up, ignore this mail: the account stays closed.',
  },
  reset_password: {
    subject: 'Your tessera password reset code',
    intro: 'Enter this code to choose a new password for the account',
    ignore: 'If you did not ask for a reset, ignore this mail: your password stays as it is.',
  },
};

/** The mail that carries a code; the code stands alone on its line so a person (or a test) finds it. */
export function codeMail(purpose: CodePurpose, to: string, username: string, code: string, ttlSeconds: number): Mail {
  const { subject, intro, ignore } = TEXTS[purpose];
  const minutes = Math.max(1, Math.round(ttlSeconds / 60));
  return {
    to,
    subject,
    text: `${intro} "${username}":\n\n    ${code}\n\nIt works for ${minutes} minute${minutes === 1 ? '' : 's'}, once.\n${ignore}\n`,
  };
}
