/**
 * Edge (env values passed in, network): the OIDC identity token for keyless signing, in this order:
 * `--identity-token`, `SIGSTORE_ID_TOKEN`, then GitHub Actions' ambient credentials
 * (ACTIONS_ID_TOKEN_REQUEST_URL + ACTIONS_ID_TOKEN_REQUEST_TOKEN, audience `sigstore`).
 */
import { IncompleteError, InputError } from '../errors.ts'

export const SIGSTORE_AUDIENCE = 'sigstore'

export interface TokenSources {
  identityToken?: string | undefined
  env: Readonly<Record<string, string | undefined>>
  /** injectable for tests; defaults to the global fetch */
  fetch?: typeof fetch
  /** receives the token before it is used (the Action masks it with `::add-mask::`) */
  onToken?: (token: string) => void
}

export type TokenSource = 'flag' | 'SIGSTORE_ID_TOKEN' | 'github-actions'

/** Where the token will come from (no network yet), or an InputError (exit 2) when there is none. */
export function tokenSource(sources: TokenSources): TokenSource {
  if (sources.identityToken) return 'flag'
  if (sources.env.SIGSTORE_ID_TOKEN) return 'SIGSTORE_ID_TOKEN'
  if (sources.env.ACTIONS_ID_TOKEN_REQUEST_URL && sources.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)
    return 'github-actions'
  throw new InputError(
    'SIGN_IDENTITY_TOKEN_MISSING',
    'keyless signing needs an OIDC identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, run in GitHub Actions with `permissions: id-token: write`, or sign with --key',
  )
}

/** A function that returns the identity token (fetching it from GitHub Actions when that is the source). */
export function identityTokenProvider(sources: TokenSources): () => Promise<string> {
  const source = tokenSource(sources)
  const seen = (token: string): string => {
    sources.onToken?.(token)
    return token
  }
  switch (source) {
    case 'flag':
      return async () => seen(sources.identityToken!)
    case 'SIGSTORE_ID_TOKEN':
      return async () => seen(sources.env.SIGSTORE_ID_TOKEN!)
    case 'github-actions': {
      let cached: Promise<string> | undefined
      return () => {
        cached ??= fetchGithubActionsToken(
          sources.env.ACTIONS_ID_TOKEN_REQUEST_URL!,
          sources.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN!,
          sources.fetch ?? fetch,
        ).then(seen)
        return cached
      }
    }
  }
}

async function fetchGithubActionsToken(
  requestUrl: string,
  requestToken: string,
  fetchImpl: typeof fetch,
): Promise<string> {
  let url: URL
  try {
    url = new URL(requestUrl)
  } catch {
    throw new InputError('SIGN_IDENTITY_TOKEN_MISSING', 'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL')
  }
  url.searchParams.set('audience', SIGSTORE_AUDIENCE)
  let body: unknown
  try {
    const response = await fetchImpl(url, {
      headers: { Accept: 'application/json', Authorization: `Bearer ${requestToken}` },
      signal: AbortSignal.timeout(10_000),
    })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    body = await response.json()
  } catch (e) {
    throw new IncompleteError(
      'SIGN_IDENTITY_TOKEN_UNAVAILABLE',
      `cannot get the GitHub Actions identity token: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    )
  }
  const value = (body as { value?: unknown } | null)?.value
  if (typeof value !== 'string' || value === '')
    throw new IncompleteError(
      'SIGN_IDENTITY_TOKEN_UNAVAILABLE',
      'the GitHub Actions token response has no value',
    )
  return value
}
