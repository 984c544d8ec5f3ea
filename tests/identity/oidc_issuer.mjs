// A real OAuth 2.1 / OpenID issuer for the identity tests: panva's oidc-provider (npm,
// certified), run offline on 127.0.0.1.
//
//   node tests/identity/oidc_issuer.mjs CONFIG.json
//
// CONFIG (written by tests/identity/oidc.py):
//   npm        the node_modules folder holding oidc-provider (.cache/npm/node_modules)
//   port       0 for a free port, or a port to listen on again (key rotation restarts here)
//   jwk        optional: the private signing key (a JWK with kid); else a new RSA key
//   scopes     the resource server's scopes (default: appctl:read appctl:write)
//   ttl        access token lifetime in seconds (default 300)
//   accounts   {name: {claims: {cust, groups, ...}, scopes: [...]}}: who may sign in, the
//              claims their access tokens carry, and the scopes they may be granted
//   clients    [{client_id, client_secret, account, ttl?}]: client-credentials clients, each
//              acting as an account (its claims, its scopes)
//
// It offers dynamic client registration, authorization code + PKCE, client credentials, and
// resource indicators (RFC 8707): every access token is a JWT whose aud is the requested
// resource. The login step needs no person: GET /interaction/UID?account=NAME signs NAME in
// and grants what the client asked for (within that account's scopes).
//
// Prints one line when ready: {"issuer": URL, "kid": KID, "jwks": URL}.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const entry = path.join(config.npm, 'oidc-provider', 'lib', 'index.js');
const { default: Provider } = await import(pathToFileURL(entry).href);

const SCOPES = config.scopes ?? ['appctl:read', 'appctl:write'];
const TTL = config.ttl ?? 300;
const ACCOUNTS = config.accounts ?? {};
const CLIENTS = config.clients ?? [];

function signingKey() {
  if (config.jwk) return config.jwk;
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: crypto.randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

function allowed(accountId, scope) {
  const account = ACCOUNTS[accountId];
  const granted = account?.scopes ?? SCOPES;
  return scope.split(' ').filter((s) => s && granted.includes(s) && SCOPES.includes(s));
}

function staticClient(clientId) {
  return CLIENTS.find((c) => c.client_id === clientId);
}

function options(jwk) {
  return {
    jwks: { keys: [jwk] },
    clients: CLIENTS.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: (ACCOUNTS[c.account]?.scopes ?? SCOPES).join(' '),
    })),
    scopes: ['openid', 'offline_access', ...SCOPES],
    claims: { openid: ['sub'] },
    pkce: { required: () => true },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource, client) => ({
          scope: SCOPES.join(' '),
          audience: resource,
          accessTokenTTL: staticClient(client.clientId)?.ttl ?? TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    findAccount: async (_ctx, sub) =>
      ACCOUNTS[sub] ? { accountId: sub, claims: async () => ({ sub }) } : undefined,
    extraTokenClaims: async (_ctx, token) => {
      const name = token.accountId ?? staticClient(token.clientId)?.account;
      return ACCOUNTS[name]?.claims;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      // the resource server's (per client: getResourceServerInfo above), else TTL
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? TTL,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? TTL,
      Interaction: 600,
      Session: 600,
      Grant: 600,
    },
  };
}

function reply(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

// The login and consent pages, done by the test: ?account=NAME signs NAME in; consent grants
// the scopes asked for that the account may have.
async function interaction(provider, req, res, url) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params } = details;
  if (prompt.name === 'login') {
    const account = url.searchParams.get('account');
    if (!account || !ACCOUNTS[account]) {
      return reply(res, 400, `name a known account: ${url.pathname}?account=NAME\n`);
    }
    return provider.interactionFinished(req, res, { login: { accountId: account } });
  }
  const accountId = details.session.accountId;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    const granted = allowed(accountId, scopes.join(' '));
    const refused = scopes.filter((s) => !granted.includes(s));
    if (granted.length) grant.addResourceScope(resource, granted.join(' '));
    if (refused.length) grant.rejectResourceScope(resource, refused.join(' '));
  }
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } });
}

const server = http.createServer();
server.listen(config.port ?? 0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const jwk = signingKey();
  const provider = new Provider(issuer, options(jwk));
  const handle = provider.callback();
  server.on('request', (req, res) => {
    const url = new URL(req.url, issuer);
    if (req.method === 'GET' && /^\/interaction\/[^/]+$/.test(url.pathname)) {
      interaction(provider, req, res, url).catch((err) => reply(res, 500, `${err}\n`));
      return;
    }
    handle(req, res);
  });
  process.stdout.write(`${JSON.stringify({ issuer, kid: jwk.kid, jwks: `${issuer}/jwks` })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
