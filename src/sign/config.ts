/**
 * `detbuild sign` flags + environment → a SigningConfig. Edge: reads the key file; environment values
 * arrive as a plain object from the CLI.
 */
import path from 'node:path'
import { InputError } from '../errors.ts'
import { parseDuration } from '../util/duration.ts'
import { readTextFile, toPosixRelative } from '../util/fs.ts'
import { identityTokenProvider } from './identity.ts'
import { toPrivateKey } from './keys.ts'
import type { SigningConfig } from './sign-bundle.ts'

export const DEFAULT_PASSWORD_ENV = 'DETBUILD_KEY_PASSWORD'

/** How errors name a key given as PEM text (the Action's `key` input) rather than as a file. */
export const PEM_KEY_DISPLAY = 'the key input'

export interface SignFlags {
  key?: string
  /** the PEM private key itself (held in memory by the caller), instead of a key file */
  keyPem?: string
  keyPasswordEnv?: string
  identityToken?: string
  fulcioUrl?: string
  rekorUrl?: string
  tsaUrl?: string
  /** commander's --no-tlog: false when given */
  tlog?: boolean
  timeout?: string
}

export async function resolveSigningConfig(
  flags: SignFlags,
  context: {
    cwd: string
    env: Readonly<Record<string, string | undefined>>
    fetch?: typeof fetch
    /** receives the identity token once it is known (the Action masks it) */
    onToken?: (token: string) => void
  },
): Promise<SigningConfig> {
  for (const [flag, value] of [
    ['--fulcio-url', flags.fulcioUrl],
    ['--rekor-url', flags.rekorUrl],
    ['--tsa-url', flags.tsaUrl],
  ] as const) {
    if (value !== undefined && !isHttpUrl(value))
      throw new InputError('SIGN_USAGE', `${flag} must be an http(s) URL: ${value}`)
  }
  // a duration with a unit (10s, 500ms); a bare number is seconds (deprecated: the CLI warns)
  const timeoutMs = flags.timeout === undefined ? undefined : parseDuration(flags.timeout, 's')?.ms
  if (flags.timeout !== undefined && timeoutMs === undefined)
    throw new InputError(
      'SIGN_USAGE',
      `--timeout must be a duration such as 10s or 500ms (at most 24 days), not ${JSON.stringify(flags.timeout)}`,
    )
  const common = {
    ...(flags.rekorUrl ? { rekorUrl: flags.rekorUrl } : {}),
    ...(flags.tsaUrl ? { tsaUrl: flags.tsaUrl } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  }
  if (flags.key !== undefined || flags.keyPem !== undefined) {
    if (flags.identityToken !== undefined || flags.fulcioUrl !== undefined)
      throw new InputError('SIGN_USAGE', '--key signs without Fulcio: drop --identity-token/--fulcio-url')
    let display: string
    let pem: string
    if (flags.keyPem !== undefined) {
      display = PEM_KEY_DISPLAY
      pem = flags.keyPem
    } else {
      const file = path.resolve(context.cwd, flags.key as string)
      display = toPosixRelative(context.cwd, file)
      pem = await readTextFile(file, 'SIGN_KEY_INVALID', display, 'config')
    }
    const passwordEnv = flags.keyPasswordEnv ?? DEFAULT_PASSWORD_ENV
    const passphrase = context.env[passwordEnv]
    return {
      mode: 'key',
      privateKey: toPrivateKey(pem, passphrase || undefined, display, passwordEnv),
      tlog: flags.tlog !== false,
      ...common,
    }
  }
  if (flags.tlog === false)
    throw new InputError(
      'SIGN_USAGE',
      '--no-tlog is only for --key: a keyless certificate lives 10 minutes and needs the log as its timestamp',
    )
  return {
    mode: 'keyless',
    identityToken: identityTokenProvider({
      identityToken: flags.identityToken,
      env: context.env,
      ...(context.fetch ? { fetch: context.fetch } : {}),
      ...(context.onToken ? { onToken: context.onToken } : {}),
    }),
    ...(flags.fulcioUrl ? { fulcioUrl: flags.fulcioUrl } : {}),
    ...common,
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value)
    return u.protocol === 'https:' || u.protocol === 'http:'
  } catch {
    return false
  }
}
