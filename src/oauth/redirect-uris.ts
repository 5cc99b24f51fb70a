// RFC 8252 §7.3: a native app listens on a loopback IP literal at whatever port the OS gives it,
// so the port of such a redirect URI is not compared. `localhost` is matched exactly (§8.3).
const LOOPBACK_PORT = /^(http:\/\/(?:127\.0\.0\.1|\[::1\]))(?::\d{1,5})?(?=[/?]|$)/;

const withoutLoopbackPort = (uri: string): string | undefined => {
  const match = LOOPBACK_PORT.exec(uri);
  return match ? match[1] + uri.slice(match[0].length) : undefined;
};

/**
 * True when `presented` is one of the `registered` redirect URIs: compared as exact strings
 * (OAuth 2.1 §2.3.1, RFC 9700 §4.1.3), except that loopback IP URIs match on any port.
 */
export function redirectUriMatches(registered: readonly string[], presented: string): boolean {
  if (registered.includes(presented)) return true;
  const portless = withoutLoopbackPort(presented);
  return portless !== undefined && registered.some((uri) => withoutLoopbackPort(uri) === portless);
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Why `uri` cannot be registered as a redirect URI, or undefined when it can: it must be absolute
 * without a fragment (RFC 6749 §3.1.2), and https, http on a loopback host (RFC 8252 §7.3), or a
 * private-use scheme with a reverse domain name, like `com.example.app:/callback` (RFC 8252 §7.1).
 */
export function redirectUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URI';
  }
  if (uri.includes('#')) return 'must not have a fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') return LOOPBACK_HOSTS.has(url.hostname) ? undefined : 'http is allowed only on a loopback host; use https';
  // A reverse-domain scheme has a dot, which also keeps out javascript:, data:, file: and the like.
  return url.protocol.slice(0, -1).includes('.') ? undefined : 'must use https, http on a loopback host, or a private-use scheme like com.example.app';
}
