import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config';

describe('tenants: TENANT_HOSTS', () => {
  it('maps no host by default', () => {
    expect(loadConfig({}).tenantHosts.size).to.equal(0);
  });

  it('reads host=tenant pairs, host names in lower case, spaces around commas ignored', () => {
    const { tenantHosts } = loadConfig({ TENANT_HOSTS: 'Acme.Example.com=acme, beta.example.org=beta-2' });
    expect([...tenantHosts]).to.deep.equal([
      ['acme.example.com', 'acme'],
      ['beta.example.org', 'beta-2'],
    ]);
  });

  for (const value of ['acme.example.com', 'acme.example.com=acme=x', 'acme.example.com=', 'bad host=acme', 'acme.example.com=-acme']) {
    it(`stops start-up with one line naming TENANT_HOSTS for "${value}"`, () => {
      expect(() => loadConfig({ TENANT_HOSTS: value })).to.throw(ConfigError, /^invalid configuration: TENANT_HOSTS\b[^\n]*$/);
    });
  }
});
