/**
 * Pure: the one credential redaction. URLs a user gives (`--osv-url`, a registry, a git remote) may carry
 * `user:token@` or a `?token=` query secret; tools a build runs echo such URLs back. Every output edge
 * (the logger, the CLI's printers, build.log, the Action's commands, outputs and summary, workspace
 * files that record a URL) passes its text through `redactSecrets` so a credential never reaches a
 * human, a log or a file.
 */
import { compareCodePoint } from './sort.ts'

/** What a redacted secret is replaced with. */
export const REDACTED = '***'

// `scheme://userinfo@`: the userinfo runs to the LAST `@` before the host (a password may hold `@`),
// and never across characters a URL cannot hold raw (quotes, whitespace, `<>`, `\`, `` ` ``), so a
// redaction never eats into the JSON or markdown around a URL.
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#"'<>\\`]*)@/gi
// the conventional, secret-free user of SSH remotes (`git+ssh://git@github.com/…`)
const PUBLIC_USERS = new Set(['git'])

// query parameters that carry a secret by convention (OAuth, S3/GCS/Azure signed URLs, API keys)
const SECRET_PARAMS = [
  'access_token',
  'api_key',
  'api-key',
  'apikey',
  'auth',
  'client_secret',
  'key',
  'password',
  'passwd',
  'private_token',
  'secret',
  'sig',
  'signature',
  'token',
  'x-amz-credential',
  'x-amz-security-token',
  'x-amz-signature',
  'x-goog-credential',
  'x-goog-signature',
]
const QUERY = new RegExp(`([?&](?:${SECRET_PARAMS.join('|')})=)[^&#\\s"'<>\\\\\`]+`, 'gi')

// npm's `.npmrc` auth settings, as `npm config list` or a verbose install prints them:
// `//registry.example/:_authToken=…`, `_auth = …`, `_password=…`
const NPMRC = /((?:^|[\s:;"'])_(?:authToken|auth|password)\s*=\s*"?)[^\s"';]+/gi

/** `text` with every credential it holds in a URL (or an npmrc auth setting) replaced by `***`. */
export function redactSecrets(text: string): string {
  if (!text.includes('=') && !text.includes('@')) return text
  return text
    .replace(USERINFO, (all, scheme: string, user: string) =>
      PUBLIC_USERS.has(user.toLowerCase()) ? all : `${scheme}${REDACTED}@`,
    )
    .replace(QUERY, `$1${REDACTED}`)
    .replace(NPMRC, `$1${REDACTED}`)
}

/** A copy of a JSON-like value with `redactSecrets` applied to every string in it (keys included). */
export function redactDeep<T>(value: T): T {
  return redactValue(value) as T
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactSecrets(value)
  if (Array.isArray(value)) return value.map(redactValue)
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[redactSecrets(k)] = redactValue(v)
    return out
  }
  return value
}

/**
 * `url` without its credentials: no user name or password, no secret query values. A value that is not
 * a URL is returned as it is.
 */
export function withoutCredentials(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return url
  }
  if (u.username === '' && u.password === '' && ![...u.searchParams.keys()].some(isSecretParam)) return url
  u.username = ''
  u.password = ''
  for (const name of [...u.searchParams.keys()]) if (isSecretParam(name)) u.searchParams.delete(name)
  return u.href
}

const isSecretParam = (name: string): boolean => SECRET_PARAMS.includes(name.toLowerCase())

/**
 * The credential values a URL carries (its user name, password and secret query values, decoded and as
 * written), for a runner to mask (`::add-mask::`) before anything is printed. Empty for a non-URL.
 */
export function urlSecrets(value: string): string[] {
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    return []
  }
  const found = new Set<string>()
  const add = (s: string) => {
    if (s === '') return
    found.add(s)
    try {
      found.add(decodeURIComponent(s))
    } catch {
      // not percent-encoded text: the raw form is masked
    }
  }
  add(url.username)
  add(url.password)
  for (const [name, v] of url.searchParams)
    if (isSecretParam(name)) {
      add(v)
      add(encodeURIComponent(v))
    }
  return [...found].sort(compareCodePoint)
}
