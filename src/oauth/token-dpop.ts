import type { Request, Response } from 'express';
import { dpopError } from '../auth/dpop-errors';
import type { ClientRow } from '../db/queries/clients';
import { requestTarget } from '../http/dpop-target';
import type { Services } from '../services';

/**
 * The DPoP step of `POST /token` (RFC 9449 §5): a `DPoP` header is checked
 * for this request (POST, the token endpoint's URL, no `ath`), and its key's
 * thumbprint binds what the grant issues. A client registered with
 * `dpop_bound_access_tokens` must send one (§5.2). With nonces on, the
 * answer carries the nonce for the next proof (§8).
 */
export async function tokenRequestJkt({ dpop, config }: Services, req: Request, res: Response, client: ClientRow): Promise<string | undefined> {
  const proof = req.get('dpop');
  if (proof === undefined) {
    if (client.dpop_bound_access_tokens) throw dpopError('token', 'invalid_dpop_proof', 'This client must send a DPoP proof with every token request.');
    return undefined;
  }
  const jkt = await dpop.verify(proof, requestTarget(req, config.issuer), 'token');
  if (dpop.nonces) res.set('DPoP-Nonce', await dpop.nonces.current());
  return jkt;
}
