import { expect } from 'chai';
import { consentPage } from '../../src/pages/consent-page';
import { formPostPage } from '../../src/pages/form-post-page';
import { escapeHtml, html } from '../../src/pages/html';
import { loginPage } from '../../src/pages/login-page';
import { PASSKEY_SCRIPT } from '../../src/pages/passkey-script';
import { twoFactorPage } from '../../src/pages/two-factor-page';

const frame = { stylesheet: '/assets/style-abc.css' };
const form = { action: '/authorize/login', interaction: 'i"d', csrfToken: 'c<t' };
const passkey = { optionsUrl: '/authorize/passkey/options', action: '/authorize/passkey' };

describe('server-rendered pages (src/pages)', () => {
  it('escapes every interpolated value, in text and in attributes, in one place', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).to.equal('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(html`<p title="${'"><script>'}">${'<b>'}${html`<i>${'<u>'}</i>`}</p>`.text).to.equal('<p title="&quot;&gt;&lt;script&gt;">&lt;b&gt;<i>&lt;u&gt;</i></p>');
  });

  it('draws the login page with labelled fields, the hidden interaction fields, the stylesheet and only the passkey script', () => {
    const page = loginPage(frame, { ...form, clientName: '<script>alert(1)</script>', username: '', forgotPasswordUrl: '/', passkey });
    expect(page).to.include('<label class="field"><span>Username</span><input name="username"');
    expect(page).to.include('<span>Password</span><input name="password" type="password"');
    expect(page).to.include('name="interaction" value="i&quot;d"').and.include('name="csrf_token" value="c&lt;t"');
    expect(page).to.include('<link rel="stylesheet" href="/assets/style-abc.css">');
    expect(page).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.split('<script>').slice(1).map((part) => part.split('</script>')[0])).to.deep.equal([PASSKEY_SCRIPT]);
    expect(page).to.match(/name="username"[^>]*autofocus/);
  });

  it('keeps the passkey form hidden until its script finds WebAuthn: without JavaScript the password form is the page', () => {
    const page = loginPage(frame, { ...form, clientName: 'App', username: '', forgotPasswordUrl: '/', passkey });
    expect(page).to.match(/<form method="post" action="\/authorize\/login">/);
    expect(page).to.match(/<form method="post" action="\/authorize\/passkey" id="passkey" data-options="\/authorize\/passkey\/options" hidden>/);
    expect(page).to.include('<button type="button">Sign in with a passkey</button>');
    expect(PASSKEY_SCRIPT).to.include('window.PublicKeyCredential').and.include('form.hidden = false');
  });

  it('announces an error with role=alert and focuses the field to fix', () => {
    const wrongUser = loginPage(frame, { ...form, clientName: 'App', username: '', forgotPasswordUrl: '/', passkey, error: 'Wrong.' });
    expect(wrongUser).to.include('role="alert"').and.match(/name="username"[^>]*aria-invalid="true" autofocus/);
    const wrongPassword = loginPage(frame, { ...form, clientName: 'App', username: 'alice', forgotPasswordUrl: '/', passkey, error: 'Wrong.' });
    expect(wrongPassword).to.match(/name="password" type="password"[^>]*autofocus aria-invalid="true"/);
    expect(twoFactorPage(frame, { ...form, error: 'Wrong code.' })).to.include('role="alert"').and.include('<span>Code</span>');
  });

  it('names the client, links its site, shows its logo and each scope on the consent page', () => {
    const page = consentPage(frame, {
      ...form,
      client: { name: 'Photos', uri: 'https://photos.example/', logoUri: 'https://photos.example/logo.png' },
      username: 'alice',
      scopes: [{ scope: 'openid', description: 'Know who you are' }],
    });
    expect(page).to.include('<title>Allow Photos? · tessera</title>').and.include('href="https://photos.example/"');
    expect(page).to.include('src="https://photos.example/logo.png" alt="Photos logo"').and.include('<li>Know who you are <span class="muted">(openid)</span></li>');
    expect(page).to.include('value="allow"').and.include('value="deny"');
  });

  it('posts the form_post response with a button for browsers without scripts', () => {
    const page = formPostPage(frame, 'https://rp.example/cb', { code: 'abc', state: '"x"' });
    expect(page).to.include('<form method="post" action="https://rp.example/cb">');
    expect(page).to.include('name="state" value="&quot;x&quot;"').and.include('<button type="submit">Continue</button>');
    expect(page).to.include('<script>document.forms[0].submit();</script>');
  });
});
