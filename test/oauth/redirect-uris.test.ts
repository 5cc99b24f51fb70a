import { expect } from 'chai';
import { redirectUriMatches, redirectUriProblem } from '../../src/oauth/redirect-uris';

describe('redirect URIs', () => {
  describe('matching', () => {
    const registered = ['https://app.example/callback', 'http://127.0.0.1/cb', 'http://[::1]:8000/cb', 'http://localhost:3000/cb', 'com.example.app:/oauth'];

    it('matches a registered URI exactly', () => {
      for (const uri of registered) expect(redirectUriMatches(registered, uri), uri).to.equal(true);
    });

    it('refuses anything that is not the same string: other paths, queries, cases, trailing slashes, fragments', () => {
      for (const uri of [
        'https://app.example/callback/',
        'https://app.example/callback?x=1',
        'https://app.example/Callback',
        'https://APP.example/callback',
        'https://app.example/callback#x',
        'https://app.example:443/callback',
        'https://app.example.evil/callback',
        'https://evil.example/?https://app.example/callback',
        'http://app.example/callback',
        'com.example.app:/oauth/more',
      ]) {
        expect(redirectUriMatches(registered, uri), uri).to.equal(false);
      }
    });

    it('matches loopback IP literals on any port (RFC 8252 §7.3), and only them', () => {
      expect(redirectUriMatches(registered, 'http://127.0.0.1:51004/cb')).to.equal(true);
      expect(redirectUriMatches(registered, 'http://127.0.0.1:1/cb')).to.equal(true);
      expect(redirectUriMatches(registered, 'http://[::1]/cb')).to.equal(true);
      expect(redirectUriMatches(registered, 'http://[::1]:65535/cb')).to.equal(true);
      expect(redirectUriMatches(registered, 'http://localhost:3001/cb')).to.equal(false);
    });

    it('still compares the rest of a loopback URI exactly', () => {
      for (const uri of ['http://127.0.0.1:8080/cb/', 'http://127.0.0.1:8080/other', 'http://127.0.0.1:8080/cb?x=1', 'https://127.0.0.1:8080/cb', 'http://127.0.0.1:8080@evil.example/cb', 'http://127.0.0.2:8080/cb', 'http://[::1]:80/cbx']) {
        expect(redirectUriMatches(registered, uri), uri).to.equal(false);
      }
    });

    it('keeps the loopback families apart', () => {
      expect(redirectUriMatches(['http://127.0.0.1/cb'], 'http://[::1]:9000/cb')).to.equal(false);
      expect(redirectUriMatches(['http://[::1]/cb'], 'http://127.0.0.1:9000/cb')).to.equal(false);
    });

    it('matches nothing when none is registered', () => {
      expect(redirectUriMatches([], 'https://app.example/callback')).to.equal(false);
      expect(redirectUriMatches([], '')).to.equal(false);
    });
  });

  describe('registration rules', () => {
    it('accepts https, loopback http and private-use schemes', () => {
      for (const uri of ['https://app.example/cb', 'https://app.example/cb?tenant=1', 'http://127.0.0.1/cb', 'http://[::1]:8000/cb', 'http://localhost:3000/login/generic_oauth', 'com.example.app:/oauth2redirect', 'com.example.app:/']) {
        expect(redirectUriProblem(uri), uri).to.equal(undefined);
      }
    });

    it('refuses relative URIs, fragments, plain http elsewhere and unsafe schemes', () => {
      const cases: Record<string, RegExp> = {
        '/callback': /absolute/,
        'app.example/cb': /absolute/,
        'https://app.example/cb#frag': /fragment/,
        'https://app.example/cb#': /fragment/,
        'http://app.example/cb': /loopback/,
        'http://127.0.0.1.evil.example/cb': /loopback/,
        'javascript:alert(1)': /private-use/,
        'data:text/html,hi': /private-use/,
        'file:///etc/passwd': /private-use/,
        'myapp:/cb': /private-use/,
      };
      for (const [uri, problem] of Object.entries(cases)) expect(redirectUriProblem(uri), uri).to.match(problem);
    });
  });
});
