/**
 * The login page's passkey script (its hash is in the page's CSP, like the form post's). Where the
 * browser has WebAuthn it reveals the passkey form; its button asks the server for request options
 * bound to this interaction, calls navigator.credentials.get() (WebAuthn §5.1.4) and posts the
 * assertion as AuthenticationResponseJSON (WebAuthn L3 §5.1, base64url fields) with the form's CSRF token.
 * Without JavaScript the form stays hidden and the password form is the page.
 */
export const PASSKEY_SCRIPT = `(() => {
  const form = document.getElementById('passkey');
  if (!form || !window.PublicKeyCredential || !navigator.credentials) return;
  const button = form.querySelector('button');
  const status = form.querySelector('[role=status]');
  const bytes = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const text = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const fields = () => new URLSearchParams([...new FormData(form)].filter(([name]) => name !== 'response'));
  form.hidden = false;
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = '';
    try {
      const answer = await fetch(form.dataset.options, { method: 'POST', body: fields(), credentials: 'same-origin' });
      if (!answer.ok) throw new Error('options');
      const { options } = await answer.json();
      const publicKey = { ...options, challenge: bytes(options.challenge), allowCredentials: (options.allowCredentials || []).map((c) => ({ ...c, id: bytes(c.id) })) };
      const credential = await navigator.credentials.get({ publicKey });
      const r = credential.response;
      form.elements.response.value = JSON.stringify({
        id: credential.id, rawId: text(credential.rawId), type: credential.type,
        authenticatorAttachment: credential.authenticatorAttachment || undefined,
        clientExtensionResults: credential.getClientExtensionResults(),
        response: { clientDataJSON: text(r.clientDataJSON), authenticatorData: text(r.authenticatorData), signature: text(r.signature), userHandle: r.userHandle ? text(r.userHandle) : undefined },
      });
      form.submit();
    } catch {
      status.textContent = 'The passkey sign-in did not complete. Try again, or use your password.';
      button.disabled = false;
    }
  });
})();`;
