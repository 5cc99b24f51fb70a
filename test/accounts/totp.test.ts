import { expect } from 'chai';
import { base32Decode, base32Encode, hotp, matchingStep, otpauthUri, totp, totpStep } from '../../src/accounts/two-factor-totp';

// RFC 4226 Appendix D and RFC 6238 Appendix B use this ASCII secret for HMAC-SHA-1.
const RFC_SECRET = Buffer.from('12345678901234567890');
const at = (seconds: number) => seconds * 1000;

describe('TOTP (RFC 6238, HMAC-SHA-1, 30 s, 6 digits)', () => {
  it('computes the RFC 4226 Appendix D HOTP values for counters 0 to 9', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(expected.map((_, counter) => hotp(RFC_SECRET, counter))).to.deep.equal(expected);
  });

  it('computes the RFC 6238 Appendix B SHA-1 values (their last 6 digits) at the fixed times of the table', () => {
    const table: Array<[number, string]> = [
      [59, '94287082'],
      [1111111109, '07081804'],
      [1111111111, '14050471'],
      [1234567890, '89005924'],
      [2000000000, '69279037'],
      [20000000000, '65353130'],
    ];
    for (const [seconds, eightDigits] of table) expect(totp(RFC_SECRET, at(seconds)), `T = ${seconds}`).to.equal(eightDigits.slice(-6));
  });

  it('accepts the code of the step before and after now, and no other, naming the step it matched', () => {
    const now = at(1111111111);
    const step = totpStep(now);
    expect(matchingStep(RFC_SECRET, totp(RFC_SECRET, now), now)).to.equal(step);
    expect(matchingStep(RFC_SECRET, totp(RFC_SECRET, now - 30_000), now)).to.equal(step - 1);
    expect(matchingStep(RFC_SECRET, totp(RFC_SECRET, now + 30_000), now)).to.equal(step + 1);
    expect(matchingStep(RFC_SECRET, totp(RFC_SECRET, now - 60_000), now)).to.equal(undefined);
    expect(matchingStep(RFC_SECRET, totp(RFC_SECRET, now + 60_000), now)).to.equal(undefined);
  });

  it('refuses anything but six digits', () => {
    const now = at(59);
    for (const otp of ['', '28708', '2870822', '28708a', ' 287082']) expect(matchingStep(RFC_SECRET, otp, now), JSON.stringify(otp)).to.equal(undefined);
  });

  it('encodes and decodes Base32 as RFC 4648 §10 does (without padding)', () => {
    const vectors: Array<[string, string]> = [['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
    for (const [plain, encoded] of vectors) {
      expect(base32Encode(Buffer.from(plain))).to.equal(encoded);
      expect(base32Decode(encoded).toString()).to.equal(plain);
    }
    expect(base32Decode('mzxw6ytboi======').toString()).to.equal('foobar');
  });

  it('writes an otpauth:// URI with the issuer in the label and the parameters authenticators read', () => {
    const uri = new URL(otpauthUri('auth.example.com', 'alice', base32Encode(RFC_SECRET)));
    expect(`${uri.protocol}//${uri.host}`).to.equal('otpauth://totp');
    expect(decodeURIComponent(uri.pathname)).to.equal('/auth.example.com:alice');
    expect(Object.fromEntries(uri.searchParams)).to.deep.equal({
      secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
      issuer: 'auth.example.com',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });
});
