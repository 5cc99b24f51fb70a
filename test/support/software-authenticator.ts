import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { encodeCBOR, type CBORType } from '@levischuck/tiny-cbor';

// A passkey authenticator in software, for tests: a P-256 key, "none" attestation (WebAuthn §8.7),
// authenticator data and client data built by hand as WebAuthn §6.1 and §5.8.1 lay them out.

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;
const COSE_EC2 = 2;
const COSE_ES256 = -7;
const COSE_P256 = 1;

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

/** The parts of the server's options an authenticator and browser act on. */
export interface CeremonyOptions {
  readonly challenge: string;
  readonly rp?: { readonly id?: string };
  readonly rpId?: string;
  readonly user?: { readonly id: string };
}

/** What a ceremony may be made to do wrong, to test that the server notices. */
export interface Tampering {
  readonly origin?: string;
  readonly rpId?: string;
  /** Clear the user-verified flag. */
  readonly unverified?: boolean;
  /** Report this counter instead of the next one. */
  readonly counter?: number;
  /** Answer this challenge instead of the options' one. */
  readonly challenge?: string;
}

export class SoftwareAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private userHandle: string | undefined;
  /** The signature counter; stays 0 for an authenticator that keeps none. */
  counter: number;
  private readonly countsSignatures: boolean;

  constructor(
    readonly origin: string,
    { countsSignatures = true }: { countsSignatures?: boolean } = {},
  ) {
    ({ privateKey: this.privateKey, publicKey: this.publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    this.counter = 0;
    this.countsSignatures = countsSignatures;
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  private rpIdOf(options: CeremonyOptions, tampering: Tampering): string {
    return tampering.rpId ?? options.rp?.id ?? options.rpId ?? new URL(this.origin).hostname;
  }

  private clientData(type: string, options: CeremonyOptions, tampering: Tampering): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge: tampering.challenge ?? options.challenge, origin: tampering.origin ?? this.origin, crossOrigin: false }));
  }

  private authenticatorData(rpId: string, flags: number, counter: number, attested?: Uint8Array): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.of(flags), count, ...(attested ? [attested] : [])]);
  }

  private flags(tampering: Tampering): number {
    return FLAG_UP | (tampering.unverified ? 0 : FLAG_UV);
  }

  private nextCounter(tampering: Tampering): number {
    if (tampering.counter !== undefined) return tampering.counter;
    if (this.countsSignatures) this.counter += 1;
    return this.counter;
  }

  /** The RegistrationResponseJSON a browser would send for these creation options. */
  register(options: CeremonyOptions, tampering: Tampering = {}) {
    this.userHandle = options.user?.id;
    const jwk = this.publicKey.export({ format: 'jwk' });
    const coseKey = new Map<number, CBORType>([
      [1, COSE_EC2],
      [3, COSE_ES256],
      [-1, COSE_P256],
      [-2, Buffer.from(jwk.x as string, 'base64url')],
      [-3, Buffer.from(jwk.y as string, 'base64url')],
    ]);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, Buffer.from(encodeCBOR(coseKey))]);
    const authData = this.authenticatorData(this.rpIdOf(options, tampering), this.flags(tampering) | FLAG_AT, this.nextCounter(tampering), attested);
    const attestationObject = encodeCBOR(new Map<string, CBORType>([['fmt', 'none'], ['attStmt', new Map<string, CBORType>()], ['authData', new Uint8Array(authData)]]));
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      clientExtensionResults: {},
      response: { clientDataJSON: b64url(this.clientData('webauthn.create', options, tampering)), attestationObject: b64url(attestationObject), transports: ['internal'] },
    };
  }

  /** The AuthenticationResponseJSON a browser would send for these request options. */
  assert(options: CeremonyOptions, tampering: Tampering = {}) {
    const authData = this.authenticatorData(this.rpIdOf(options, tampering), this.flags(tampering), this.nextCounter(tampering));
    const clientData = this.clientData('webauthn.get', options, tampering);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(this.userHandle ? { userHandle: this.userHandle } : {}),
      },
    };
  }
}
