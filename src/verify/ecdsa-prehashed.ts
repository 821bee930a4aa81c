/**
 * ECDSA verification over a digest the caller already has (no message bytes), for message-signature
 * bundles checked against a `sha256:<hex>` artifact. Node's crypto cannot do this: `crypto.verify`
 * always hashes its input (with `null` as the algorithm, an EC key hashes with SHA-256), and WebCrypto's
 * ECDSA requires a hash too; test/verify/units.test.ts shows both. So the arithmetic is @noble/curves'
 * (audited, maintained), called with `prehash: false`.
 *
 * Accepts exactly what OpenSSL accepts when it verifies the same signature over the message (the
 * `verify(sha256, data)` path of the bytes artifact): strict DER only (no long-form short lengths, no
 * padded or negative INTEGERs, no trailing bytes), r and s in 1..n-1, and high-S signatures too, as
 * OpenSSL and sigstore do not require low-S. Anything malformed is false, never an exception.
 */
import type { KeyObject } from 'node:crypto'
import { p256, p384 } from '@noble/curves/nist.js'

/** The curves a digest can be checked with, by Node's name for them (the key's `namedCurve`). */
const CURVES = { prime256v1: p256, secp384r1: p384 } as const

const curveOf = (key: KeyObject) => {
  const name = key.asymmetricKeyDetails?.namedCurve
  return key.asymmetricKeyType === 'ec' && (name === 'prime256v1' || name === 'secp384r1')
    ? CURVES[name]
    : undefined
}

/** Whether the key type can verify a prehashed digest here (ECDSA P-256/P-384). */
export function canVerifyPrehashed(key: KeyObject): boolean {
  return curveOf(key) !== undefined
}

/** Verifies a DER ECDSA signature over `digest` with an EC public key; false for anything else. */
export function verifyPrehashedEcdsa(digest: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  const curve = curveOf(key)
  if (!curve) return false
  try {
    const jwk = key.export({ format: 'jwk' })
    if (!jwk.x || !jwk.y) return false
    // the uncompressed SEC1 point: 0x04 ‖ x ‖ y (JWK coordinates are fixed-length)
    const point = Buffer.concat([
      Buffer.of(4),
      Buffer.from(jwk.x, 'base64url'),
      Buffer.from(jwk.y, 'base64url'),
    ])
    // the digest's leftmost bits, as many as the group order has (FIPS 186-4 §6.4), are noble's bits2int
    return curve.verify(signature, digest, point, { prehash: false, format: 'der', lowS: false })
  } catch {
    // noble throws on some malformed input (a signature of the wrong length, a bad point) instead of false
    return false
  }
}
