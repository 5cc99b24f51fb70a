import { z } from 'zod';

// The JSON forms of WebAuthn credentials (W3C WebAuthn Level 3 §5.1.8, `toJSON()`), as
// @simplewebauthn/browser sends them. Checked for shape here; their contents are the library's.

const MAX_CREDENTIAL_ID = 1364; // 1023 bytes (WebAuthn §5.1) in base64url
const MAX_BINARY = 16_384; // attestation objects and client data of real authenticators are far smaller
const base64url = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');

export const TRANSPORTS = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'] as const;

const credentialFields = {
  id: base64url(MAX_CREDENTIAL_ID),
  rawId: base64url(MAX_CREDENTIAL_ID),
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
};

/** What `navigator.credentials.create()` answered, as JSON. */
export const registrationResponseSchema = z.object({
  ...credentialFields,
  response: z.object({
    clientDataJSON: base64url(MAX_BINARY),
    attestationObject: base64url(MAX_BINARY),
    // Browsers send unknown transports too (WebAuthn §5.8.4): keep the ones we know.
    transports: z.array(z.string().max(32)).max(16).optional().transform((all) => all?.filter((t): t is (typeof TRANSPORTS)[number] => (TRANSPORTS as readonly string[]).includes(t))),
    authenticatorData: base64url(MAX_BINARY).optional(),
    publicKey: base64url(MAX_BINARY).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
  }),
});

/** What `navigator.credentials.get()` answered, as JSON. */
export const authenticationResponseSchema = z.object({
  ...credentialFields,
  response: z.object({
    clientDataJSON: base64url(MAX_BINARY),
    authenticatorData: base64url(MAX_BINARY),
    signature: base64url(MAX_BINARY),
    userHandle: base64url(256).optional(),
  }),
});

export type RegistrationResponse = z.output<typeof registrationResponseSchema>;
export type AuthenticationResponse = z.output<typeof authenticationResponseSchema>;

/** A passkey's name as its owner gives it. */
export const passkeyNameSchema = z.string().trim().min(1).max(100);
