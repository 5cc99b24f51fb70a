import type { Request, Response } from 'express';
import { PasskeySignInCeremony } from '../accounts/passkey-sign-in';
import { TwoFactor } from '../accounts/two-factor';
import { EmailVerification } from '../accounts/verification';
import { ApiError, invalidGrant } from '../errors';
import { messagePage } from '../pages/message-page';
import { twoFactorPage } from '../pages/two-factor-page';
import { userScopes } from '../oauth/user-session';
import type { UserRow } from '../db/queries/users';
import { authorizationError, PageError } from './authorization-errors';
import type { AuthorizationFlow } from './authorization-flow';
import type { AuthenticationMethod } from './browser-sessions';
import type { Interaction } from './interactions';
import { sendErrorPage, sendPage } from './page-response';

type Form = Record<string, unknown>;

const text = (form: Form, name: string, max: number): string => {
  const value = form[name];
  return typeof value === 'string' ? value.slice(0, max) : '';
};

/**
 * The forms of the authorization endpoint (SPEC §10): password, second factor, consent. Each
 * continues an interaction whose CSRF token and browser it checks first. A wrong password
 * answers 400 so the failed-login limit of SPEC §7 counts it; a right one with two-factor
 * sign-in on is no failure (`credentialsAccepted`). A passkey with user verification is two factors
 * on its own (something held, and a biometric or PIN): no second step follows it.
 */
export class SignIn {
  private readonly twoFactor: TwoFactor;
  private readonly verification: EmailVerification;
  private readonly passkeys: PasskeySignInCeremony;

  constructor(private readonly flow: AuthorizationFlow) {
    this.twoFactor = new TwoFactor(flow.services);
    this.verification = new EmailVerification(flow.services);
    this.passkeys = new PasskeySignInCeremony(flow.services);
  }

  /** `POST /authorize/login`. */
  async password(req: Request, res: Response): Promise<void> {
    await this.continuing(req, res, async (interaction) => {
      const { users, tenantId, metrics } = this.flow.services;
      const client = await this.flow.clientOf(interaction.request);
      const form = (req.body ?? {}) as Form;
      const username = text(form, 'username', 256);
      const user = await users.authenticate(tenantId, username, text(form, 'password', 1024));
      if (!user) {
        metrics.failedLogins.inc();
        this.flow.showLogin(res, client, interaction, username, 'The username or password is wrong.', 400);
        return;
      }
      res.locals.credentialsAccepted = true;
      if (await this.verificationPending(res, user)) return;
      if (await this.twoFactor.isEnabled(user.id)) {
        await this.flow.interactions.setUser(interaction, user.id);
        this.showTwoFactor(res, interaction);
        return;
      }
      await this.signedIn(req, res, interaction, user, ['pwd']);
    });
  }

  /**
   * `POST /authorize/passkey/options`: WebAuthn request options (JSON) for the login page's script. The
   * challenge is bound to this interaction, which the CSRF token and browser cookie already tie to
   * this browser; asking again replaces it.
   */
  async passkeyOptions(req: Request, res: Response): Promise<void> {
    await this.continuing(req, res, async (interaction) => {
      const { challengeId, options } = await this.passkeys.authenticationOptions();
      await this.flow.interactions.setPasskeyChallenge(interaction, challengeId);
      res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json({ options });
    });
  }

  /** `POST /authorize/passkey`: the assertion (the browser's AuthenticationResponseJSON as the `response` field) for this interaction's challenge. */
  async passkey(req: Request, res: Response): Promise<void> {
    await this.continuing(req, res, async (interaction) => {
      const client = await this.flow.clientOf(interaction.request);
      let signIn;
      try {
        if (interaction.passkeyChallengeId === null) throw invalidGrant('No passkey challenge was asked for here.');
        signIn = await this.passkeys.verifyAuthentication(parseJson(text(form(req), 'response', 16_384)), interaction.passkeyChallengeId);
      } catch (error) {
        if (!(error instanceof ApiError) || error.code !== 'invalid_grant') throw error;
        this.flow.showLogin(res, client, interaction, '', 'The passkey sign-in failed. Try again, or use your password.', 400);
        return;
      }
      if (await this.verificationPending(res, signIn.user)) return;
      await this.signedIn(req, res, interaction, signIn.user, ['hwk', 'user']);
    });
  }

  /** `POST /authorize/two-factor`: an authenticator code or a recovery code. */
  async secondFactor(req: Request, res: Response): Promise<void> {
    await this.continuing(req, res, async (interaction) => {
      const { users, tenantId } = this.flow.services;
      const user = interaction.userId === null ? undefined : await users.queries.findById(tenantId, interaction.userId);
      if (!user || user.disabled) throw new PageError(400, 'Sign-in expired', 'Sign in with your password again.');
      let accepted: boolean;
      try {
        accepted = await this.twoFactor.verify(user.id, text(form(req), 'otp', 64));
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 429) throw error;
        this.showTwoFactor(res, interaction, 'Too many wrong codes. Wait a few minutes, then try again.', 429);
        return;
      }
      if (!accepted) {
        this.showTwoFactor(res, interaction, 'The code is wrong or was used already.', 400);
        return;
      }
      await this.signedIn(req, res, interaction, user, ['pwd', 'otp']);
    });
  }

  /** `POST /authorize/consent`: Allow remembers the scopes and issues the code; Deny is `access_denied`. */
  async consent(req: Request, res: Response): Promise<void> {
    await this.continuing(req, res, async (interaction) => {
      const current = await this.flow.browserSessions.current(req);
      if (!current || current.user.id !== interaction.userId) throw new PageError(400, 'Sign-in expired', 'You are no longer signed in. Go back to the application and start again.');
      const client = await this.flow.clientOf(interaction.request);
      await this.flow.interactions.finish(interaction);
      if (text(form(req), 'decision', 10) !== 'allow') {
        throw authorizationError('access_denied', 'The user denied the request.');
      }
      const scopes = userScopes(current.user, client, interaction.request.scope);
      await this.flow.consents.grant(current.user.id, client.id, scopes);
      await this.flow.issueCode(res, client, interaction.request, { session: current, user: current.user }, scopes);
    });
  }

  private async verificationPending(res: Response, user: UserRow): Promise<boolean> {
    if (!(await this.verification.isPending(user))) return false;
    const description = 'Your account waits for the code we e-mailed you. Enter it in the tessera app, then sign in again.';
    sendPage(res, 403, messagePage(this.flow.frame, 'Verify your e-mail address', description, 'status'), { problem: { code: 'verification_pending', description } });
    return true;
  }

  private showTwoFactor(res: Response, interaction: Interaction, error?: string, status = 200): void {
    const action = `${res.req.baseUrl}/authorize/two-factor`;
    sendPage(res, status, twoFactorPage(this.flow.frame, { action, interaction: interaction.id, csrfToken: interaction.csrfToken, ...(error ? { error } : {}) }), {
      redirectUri: interaction.request.redirectUri,
      ...(error ? { problem: { code: status === 429 ? 'rate_limited' : 'invalid_code', description: error } } : {}),
    });
  }

  /**
   * The person proved who they are (by `amr`, RFC 8176): the interaction ends (a double submit finds it gone), a new
   * browser session replaces the browser's earlier one, and the request goes on to consent or a code.
   */
  private async signedIn(req: Request, res: Response, interaction: Interaction, user: UserRow, amr: readonly AuthenticationMethod[]): Promise<void> {
    await this.flow.interactions.finish(interaction);
    const client = await this.flow.clientOf(interaction.request);
    const earlier = await this.flow.browserSessions.current(req);
    if (earlier) await this.flow.services.sessions.revoke({ id: earlier.session_id }, 'logout');
    const session = await this.flow.browserSessions.start(req, res, user, amr);
    await this.flow.proceed(req, res, client, interaction.request, { session, user });
  }

  /** Resumes the posted interaction; errors after that go back to the client at its redirect URI. */
  private async continuing(req: Request, res: Response, step: (interaction: Interaction) => Promise<void>): Promise<void> {
    let interaction: Interaction;
    try {
      interaction = await this.flow.interactions.resume(req, form(req));
    } catch (error) {
      if (error instanceof PageError) return sendErrorPage(res, this.flow.frame, error);
      throw error;
    }
    await this.flow.answering(res, interaction.request, () => step(interaction));
  }
}

const form = (req: Request): Form => {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null ? (body as Form) : {};
};

/** The posted assertion; anything that is not JSON is left for the ceremony's schema to refuse. */
const parseJson = (value: string): unknown => {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
};
