/**
 * Which environment variables hold credentials, by name: shared by the build's environment allowlist,
 * the config's `env`/`secretEnv` checks, `run` and the Action, which all must agree.
 */

/**
 * Names no build ever gets, even when a config asks: the runner's and detbuild's own credentials (the
 * OIDC token endpoint, the runtime token, every Action input — `INPUT_KEY` holds the signing key —, the
 * key passphrase, a keyless identity token, the key that seals the caches). A build that needs one is a
 * build that can sign as you (or forge a cache entry).
 */
export function isWithheldEnvName(name: string): boolean {
  const n = name.toUpperCase()
  return (
    n.startsWith('ACTIONS_') ||
    n.startsWith('INPUT_') ||
    n === 'DETBUILD_KEY_PASSWORD' ||
    n === 'DETBUILD_CACHE_KEY' ||
    n === 'SIGSTORE_ID_TOKEN'
  )
}

// words that name a credential: *TOKEN*, *SECRET*, *PASSWORD*, *PASSWD*, *PASSPHRASE*, *CREDENTIAL*,
// *PRIVATE_KEY*, *API_KEY*/*APIKEY*, *ACCESS_KEY*, and the words AUTH, PASS, PAT and KEY between
// underscores or at an end (NPM_TOKEN, npm_config__auth, AWS_SECRET_ACCESS_KEY, SSH_AUTH_SOCK, DB_PASS)
const SECRET_WORDS = /TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY/
const SECRET_PARTS = /(^|_)(AUTH|PASS|PAT|KEY|COOKIE|SESSION)(_|$)/

/**
 * Whether a variable's name says it holds a credential. Such a name is passed to a build only when the
 * config lists it under `secretEnv` (on purpose, e.g. NPM_TOKEN for a private registry with
 * `network: allow`), never through `env`.
 */
export function looksLikeSecretEnvName(name: string): boolean {
  const n = name.toUpperCase()
  return isWithheldEnvName(n) || SECRET_WORDS.test(n) || SECRET_PARTS.test(n)
}
