/** Resource shapes of SPEC §4–§5 as the server returns them (times are RFC 3339 UTC strings). */

export interface Me {
  id: string;
  username: string;
  email: string | null;
  roles: string[];
  created_at: string;
}

/** `GET /me/2fa` (SPEC §8). */
export interface TwoFactorStatus {
  enabled: boolean;
  pending: boolean;
  recovery_codes_left: number;
}

/** `POST /me/2fa`: shown once; two-factor sign-in is off until `confirm`. */
export interface TwoFactorEnrolment {
  /** For an authenticator app, e.g. as a QR code. */
  otpauth_uri: string;
  /** The same secret in Base32, to type in. */
  secret: string;
  recovery_codes: string[];
}

/** A passkey of the logged-in user, as `GET /me/passkeys` lists it (never the key itself). */
export interface Passkey {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  /** `singleDevice`, or `multiDevice` for a passkey synced between devices. */
  device_type: string;
  backed_up: boolean;
}

/**
 * `POST /me/passkeys/options`: WebAuthn PublicKeyCredentialCreationOptionsJSON, to hand to
 * `startRegistration({ optionsJSON })` of @simplewebauthn/browser (or `PublicKeyCredential.parseCreationOptionsFromJSON`).
 */
export interface PasskeyCreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  [member: string]: unknown;
}

export interface Session {
  id: string;
  client_id: string;
  created_at: string;
  last_used_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

export interface Task {
  id: string;
  title: string;
  description: string | null;
  completed: boolean;
  due_date: string | null;
  created_at: string;
  updated_at: string;
}

export interface TaskInput {
  title?: string;
  description?: string | null;
  completed?: boolean;
  due_date?: string | null;
}

export type EventStatus = 'confirmed' | 'tentative' | 'cancelled';

export interface CalendarEvent {
  id: string;
  title: string;
  start_time: string;
  end_time: string;
  description: string | null;
  location: string | null;
  status: EventStatus;
}

export interface CalendarEventInput {
  title?: string;
  start_time?: string;
  end_time?: string;
  description?: string | null;
  location?: string | null;
  status?: EventStatus;
}

export interface Conversation {
  id: string;
  title: string | null;
  members: string[];
  last_seq: number;
  created_at: string;
}

export interface Message {
  id: string;
  session_id: string;
  seq: number;
  sender: string;
  role: 'user' | 'assistant' | 'system';
  type: string;
  content: string;
  timestamp: string;
}

export interface MessageInput {
  content: string;
  type?: string;
  nonce?: string;
}

/** Paging of list endpoints (SPEC §5): `cursor` comes from the previous page's `Link`. */
export interface PageQuery {
  limit?: number;
  cursor?: string;
}
