/**
 * Who must have signed what this run made, for the policy's signing rules and the verify step: the
 * trust given for verify, else this run's own signer. Held in memory: the run's public key and, for
 * key signatures without a log entry, a trusted root that trusts nothing are never written to disk.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import path from 'node:path'
import { InputError } from '../../errors.ts'
import { DEFAULT_PASSWORD_ENV, PEM_KEY_DISPLAY } from '../../sign/index.ts'
import { readTextFile, toPosixRelative } from '../../util/fs.ts'
import { EMPTY_TRUSTED_ROOT, type TrustInput } from '../../verify/index.ts'
import type { RunOptions } from '../options.ts'
import type { Carried } from './carried.ts'
import { hasKey } from './signing.ts'

export { EMPTY_TRUSTED_ROOT }

const EMPTY_ROOT: NonNullable<TrustInput['trustedRootData']> = {
  json: EMPTY_TRUSTED_ROOT,
  name: 'an empty trusted root (key signatures without a log entry)',
}

/** Whether who must have signed was given (a key or an identity), not derived from this run's signer. */
export function hasVerifyTrust(v: RunOptions['verify']): boolean {
  return Boolean(v.key || v.certificateIdentity || v.certificateIdentityRegexp)
}

/** The trust given for verify; a key without a log and without a root needs no root at all. Pure. */
export function givenTrust(o: RunOptions): TrustInput {
  const v = o.verify
  return { ...v, ...(v.key && !v.trustedRoot && !o.sign.tlog ? { trustedRootData: EMPTY_ROOT } : {}) }
}

/** The signer of this run's signatures (sign) or evidence (bundle), unless trust was given for verify. */
export async function verifyTrust(o: RunOptions, c: Readonly<Carried>): Promise<TrustInput> {
  const v = o.verify
  if (hasVerifyTrust(v)) return givenTrust(o)
  // verify what this run just signed: the key's public half, or the identity in the certificate
  if (hasKey(o.sign) && (c.signer?.type === 'key' || c.signer === undefined))
    return {
      publicKey: await publicKeyOf(o, c),
      ...(v.trustedRoot
        ? { trustedRoot: v.trustedRoot }
        : o.sign.tlog
          ? {}
          : { trustedRootData: EMPTY_ROOT }),
      ...(o.sign.tlog ? {} : { insecureIgnoreTlog: true }),
    }
  if (c.signer?.type === 'keyless')
    return {
      certificateIdentity: c.signer.identity,
      certificateOidcIssuer: c.signer.issuer,
      ...(v.trustedRoot ? { trustedRoot: v.trustedRoot } : {}),
    }
  throw new InputError(
    'RUN_USAGE',
    'verify: say who must have signed the evidence (--verify-key, or --certificate-identity with --certificate-oidc-issuer)',
  )
}

/** The public half of this run's signing key: of the key sign or bundle used, else read now. */
async function publicKeyOf(o: RunOptions, c: Readonly<Carried>): Promise<KeyObject> {
  if (c.signing?.mode === 'key' && c.signing.config.mode === 'key')
    return createPublicKey(c.signing.config.privateKey)
  const { toPrivateKey } = await import('../../sign/index.ts')
  let pem: string
  let shown: string
  if (o.sign.keyPem !== undefined) {
    pem = o.sign.keyPem
    shown = PEM_KEY_DISPLAY
  } else {
    const abs = path.resolve(o.cwd, o.sign.key as string)
    shown = o.sign.key as string
    pem = await readTextFile(abs, 'SIGN_KEY_INVALID', toPosixRelative(o.cwd, abs), 'config')
  }
  const passwordEnv = o.sign.keyPasswordEnv ?? DEFAULT_PASSWORD_ENV
  return createPublicKey(toPrivateKey(pem, c.env[passwordEnv] || undefined, shown, passwordEnv))
}
