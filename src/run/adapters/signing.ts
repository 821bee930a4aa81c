/**
 * The signing choice of a run, made once for sign and bundle: `--sign auto` becomes key, keyless or
 * unsigned (with one warning); key and keyless become one SigningConfig (one key, one identity token).
 */
import { ExitCode, InputError } from '../../errors.ts'
import type { SignFlags, SigningConfig } from '../../sign/index.ts'
import type { RunOptions } from '../options.ts'
import type { StepResult } from '../pipeline.ts'
import type { Carried } from './carried.ts'

export type RunSigning =
  | { mode: 'key' | 'keyless'; config: SigningConfig }
  /** `--sign auto` without a key or an identity at hand */
  | { mode: 'unsigned' }
  /** `--sign none` */
  | { mode: 'none' }

/** Whether a keyless identity token can be had without asking (flag, SIGSTORE_ID_TOKEN, GitHub OIDC). */
export function hasAmbientIdentity(o: Pick<RunOptions, 'env' | 'sign'>): boolean {
  return Boolean(
    o.sign.identityToken ||
      o.env.SIGSTORE_ID_TOKEN ||
      (o.env.ACTIONS_ID_TOKEN_REQUEST_URL && o.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN),
  )
}

/** Whether this run signs with a key (a file, or the PEM held in memory). */
export function hasKey(sign: RunOptions['sign']): boolean {
  return sign.key !== undefined || sign.keyPem !== undefined
}

/** The sign step's own flags for the chosen mode (what `detbuild sign` would be given). Pure. */
export function toSignFlags(sign: RunOptions['sign'], mode: 'key' | 'keyless'): SignFlags {
  return {
    ...(mode === 'key' && sign.keyPem !== undefined ? { keyPem: sign.keyPem } : {}),
    ...(mode === 'key' && sign.key !== undefined ? { key: sign.key } : {}),
    ...(sign.keyPasswordEnv ? { keyPasswordEnv: sign.keyPasswordEnv } : {}),
    ...(mode === 'keyless' && sign.identityToken ? { identityToken: sign.identityToken } : {}),
    ...(mode === 'keyless' && sign.fulcioUrl ? { fulcioUrl: sign.fulcioUrl } : {}),
    ...(sign.rekorUrl ? { rekorUrl: sign.rekorUrl } : {}),
    ...(sign.tsaUrl ? { tsaUrl: sign.tsaUrl } : {}),
    ...(mode === 'key' && !sign.tlog ? { tlog: false } : {}),
  }
}

/** The signing choice the earlier step made, else this step's (sign and bundle share one). */
export async function signingOf(o: RunOptions, c: Readonly<Carried>): Promise<RunSigning> {
  if (c.signing) return c.signing
  let mode = o.sign.mode
  if (mode === 'auto') {
    if (hasKey(o.sign)) mode = 'key'
    else if (hasAmbientIdentity({ env: c.env, sign: o.sign })) mode = 'keyless'
    else {
      // a warning, so that even -q and --json say it: nothing of this run is signed
      // verify is skipped too: of the evidence bundle did not make, or, without a bundle step, of the
      // workspace's evidence when nobody said who must have signed it
      const v = o.verify
      const verifies =
        !o.steps.includes('bundle') && Boolean(v.key || v.certificateIdentity || v.certificateIdentityRegexp)
      const affected = o.steps.filter((s) => s === 'sign' || s === 'bundle' || (s === 'verify' && !verifies))
      o.log.warn(
        `no signing identity: ${affected.join(', ')} skipped, nothing is signed (use --sign key --key FILE, or run in CI with an OIDC token)`,
      )
      return { mode: 'unsigned' }
    }
  }
  if (mode === 'none') return { mode: 'none' }
  if (mode === 'key' && !hasKey(o.sign)) throw new InputError('RUN_USAGE', '--sign key needs --key FILE')
  const { resolveSigningConfig } = await import('../../sign/index.ts')
  const config = await resolveSigningConfig(toSignFlags(o.sign, mode), {
    cwd: o.cwd,
    env: c.env,
    ...(o.onSecret ? { onToken: o.onSecret } : {}),
  })
  return { mode, config }
}

/** The record of a step that signs nothing on purpose. Pure. */
export function skippedSigning(mode: 'unsigned' | 'none', step: 'sign' | 'bundle'): StepResult {
  return {
    exitCode: ExitCode.ok,
    skipped: true,
    detail:
      mode === 'none'
        ? 'skipped: --sign none'
        : `skipped: no signing identity for the ${step === 'sign' ? 'signatures' : 'evidence'} (use --sign key --key FILE, or run in CI with an OIDC token)`,
  }
}
