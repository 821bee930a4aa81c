/**
 * Signing keys: PKCS#8 PEM private keys (optionally encrypted), ECDSA P-256/P-384 or Ed25519.
 * Pure apart from key generation's randomness.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { InputError } from '../errors.ts'

export const KEY_ALGORITHMS = ['ecdsa-p256', 'ecdsa-p384', 'ed25519'] as const
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number]

const PKCS8 = /-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/

/** The algorithm of a key, or undefined when detbuild does not sign with it. */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519'
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve
    if (curve === 'prime256v1') return 'ecdsa-p256'
    if (curve === 'secp384r1') return 'ecdsa-p384'
  }
  return undefined
}

/**
 * Parses a PKCS#8 PEM private key. `passphrase` decrypts an ENCRYPTED PRIVATE KEY; it came from the
 * environment variable `passwordEnv`, which errors name. Errors name `file` and never include the
 * passphrase.
 */
export function toPrivateKey(
  pem: string,
  passphrase: string | undefined,
  file: string,
  passwordEnv = 'DETBUILD_KEY_PASSWORD',
): KeyObject {
  const header = PKCS8.exec(pem)
  if (!header)
    throw new InputError(
      'SIGN_KEY_INVALID',
      'not a PKCS#8 PEM private key (expected "BEGIN PRIVATE KEY" or "BEGIN ENCRYPTED PRIVATE KEY"; make one with detbuild keygen)',
      { file },
    )
  const encrypted = header[1] !== undefined
  if (encrypted && !passphrase)
    throw new InputError(
      'SIGN_KEY_PASSPHRASE_REQUIRED',
      `the key is encrypted: set its passphrase in the environment variable ${passwordEnv}`,
      { file, details: { passwordEnv } },
    )
  let key: KeyObject
  try {
    key = createPrivateKey(
      encrypted ? { key: pem, format: 'pem', passphrase: passphrase! } : { key: pem, format: 'pem' },
    )
  } catch (e) {
    throw new InputError(
      encrypted ? 'SIGN_KEY_PASSPHRASE_WRONG' : 'SIGN_KEY_INVALID',
      encrypted
        ? `cannot decrypt the key: wrong passphrase in ${passwordEnv}?`
        : 'cannot read the private key',
      { file, cause: e, ...(encrypted ? { details: { passwordEnv } } : {}) },
    )
  }
  if (!keyAlgorithmOf(key))
    throw new InputError(
      'SIGN_KEY_UNSUPPORTED',
      `unsupported key type ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.namedCurve ? ` (${key.asymmetricKeyDetails.namedCurve})` : ''}: use ECDSA P-256, P-384 or Ed25519`,
      { file },
    )
  return key
}

export interface KeyPairPem {
  privateKeyPem: string
  publicKeyPem: string
  algorithm: KeyAlgorithm
}

/** A fresh key pair as PKCS#8 / SPKI PEM; the private key is encrypted (AES-256-CBC, PBES2) when a passphrase is given. */
export function generateKeyPairPem(algorithm: KeyAlgorithm, passphrase?: string): KeyPairPem {
  const { privateKey } =
    algorithm === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: algorithm === 'ecdsa-p256' ? 'P-256' : 'P-384' })
  const privateKeyPem = passphrase
    ? privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
    : privateKey.export({ type: 'pkcs8', format: 'pem' })
  return {
    privateKeyPem: String(privateKeyPem),
    publicKeyPem: String(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' })),
    algorithm,
  }
}
