/**
 * Edge: the host's network settings for detbuild's own fetches (prefetch, toolchain), as npm reads
 * them: the proxy and private CAs from the environment detbuild was given (not `process.env`: the
 * CLI and the Action pass it in). npm's own `.npmrc` files are not read (see README "Network").
 */
import { readFile } from 'node:fs/promises'
import { rootCertificates } from 'node:tls'
import { InputError } from '../errors.ts'

/** Options for pacote / make-fetch-happen (@npmcli/agent). */
export interface FetchOptions {
  proxy?: string
  noProxy?: string
  /** trusted roots: Node's bundled ones plus the extra CAs (an explicit `ca` replaces Node's) */
  ca?: string[]
}

const first = (env: NodeJS.ProcessEnv, names: readonly string[]): string | undefined => {
  for (const n of names) {
    const v = env[n]
    if (v !== undefined && v !== '') return v
  }
  return undefined
}

/** The PEM certificates in a bundle (one file may hold several). */
export function toPemList(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
}

/**
 * Resolves the proxy (npm's `https-proxy`/`proxy` first, then `HTTPS_PROXY`, `HTTP_PROXY` in either
 * case), `NO_PROXY`, and the CAs of `NODE_EXTRA_CA_CERTS`, npm's `cafile` and `ca`. A CA file that
 * cannot be read or holds no certificate is BUILD_CA_INVALID (exit 2): fetching without the CA the
 * user named would fail later with a TLS error that hides the cause.
 */
export async function resolveFetchOptions(env: NodeJS.ProcessEnv): Promise<FetchOptions> {
  const out: FetchOptions = {}
  const proxy = first(env, [
    'npm_config_https_proxy',
    'HTTPS_PROXY',
    'https_proxy',
    'npm_config_proxy',
    'HTTP_PROXY',
    'http_proxy',
  ])
  if (proxy) out.proxy = proxy
  const noProxy = first(env, ['npm_config_noproxy', 'NO_PROXY', 'no_proxy'])
  if (noProxy) out.noProxy = noProxy
  const extra: string[] = []
  for (const name of ['NODE_EXTRA_CA_CERTS', 'npm_config_cafile'] as const) {
    const file = env[name]
    if (!file) continue
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (e) {
      throw new InputError('BUILD_CA_INVALID', `${name}: cannot read ${file}: ${(e as Error).message}`, {
        file,
        cause: e,
      })
    }
    const pems = toPemList(text)
    if (pems.length === 0)
      throw new InputError('BUILD_CA_INVALID', `${name}: ${file} holds no PEM certificate`, { file })
    extra.push(...pems)
  }
  if (env.npm_config_ca) extra.push(...toPemList(env.npm_config_ca.replace(/\\n/g, '\n')))
  if (extra.length > 0) out.ca = [...rootCertificates, ...extra]
  return out
}
