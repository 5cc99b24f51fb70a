import type { Config } from '../config';

/** Who the browser must believe it is talking to (W3C WebAuthn §5.1.3, §5.1.4.1). */
export interface RelyingParty {
  /** The RP ID: the issuer's host name, shared by every tenant served under `/t/<id>` on that host. */
  readonly id: string;
  /** The origin every clientDataJSON must carry. */
  readonly origin: string;
  /** What the browser shows the user. */
  readonly name: string;
}

/** The relying party of a tenant, from its issuer (`config.issuer` of that tenant's services). */
export function relyingPartyOf(config: Pick<Config, 'issuer'>, tenantName: string): RelyingParty {
  const issuer = new URL(config.issuer);
  return { id: issuer.hostname, origin: issuer.origin, name: tenantName };
}
