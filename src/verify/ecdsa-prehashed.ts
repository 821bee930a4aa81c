/**
 * ECDSA verification over a digest the caller already has (no message bytes). Node's crypto only
 * verifies messages it hashes itself, so a `sha256:<hex>` artifact needs this for message-signature
 * bundles. Pure BigInt arithmetic over the NIST curves sigstore uses; verification only handles
 * public data, so constant time does not matter here.
 */
import type { KeyObject } from 'node:crypto'

interface Curve {
  p: bigint
  a: bigint
  n: bigint
  gx: bigint
  gy: bigint
  size: number
}

const CURVES: Record<string, Curve> = {
  'P-256': {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    size: 32,
  },
  'P-384': {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    a: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffcn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    size: 48,
  },
}

type Point = { x: bigint; y: bigint } | null

const mod = (a: bigint, m: bigint): bigint => {
  const r = a % m
  return r < 0n ? r + m : r
}

function invert(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m]
  let [oldS, s] = [1n, 0n]
  while (r !== 0n) {
    const q = oldR / r
    ;[oldR, r] = [r, oldR - q * r]
    ;[oldS, s] = [s, oldS - q * s]
  }
  return mod(oldS, m)
}

function add(c: Curve, p1: Point, p2: Point): Point {
  if (p1 === null) return p2
  if (p2 === null) return p1
  if (p1.x === p2.x) {
    if (mod(p1.y + p2.y, c.p) === 0n) return null
    const l = mod((3n * p1.x * p1.x + c.a) * invert(2n * p1.y, c.p), c.p)
    const x = mod(l * l - 2n * p1.x, c.p)
    return { x, y: mod(l * (p1.x - x) - p1.y, c.p) }
  }
  const l = mod((p2.y - p1.y) * invert(p2.x - p1.x, c.p), c.p)
  const x = mod(l * l - p1.x - p2.x, c.p)
  return { x, y: mod(l * (p1.x - x) - p1.y, c.p) }
}

function multiply(c: Curve, k: bigint, point: Point): Point {
  let result: Point = null
  let addend = point
  let n = k
  while (n > 0n) {
    if (n & 1n) result = add(c, result, addend)
    addend = add(c, addend, addend)
    n >>= 1n
  }
  return result
}

const toBigInt = (bytes: Uint8Array): bigint =>
  bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`)

/** Reads the two INTEGERs of a DER `SEQUENCE { r, s }`; undefined when malformed. */
function parseDerSignature(sig: Uint8Array): { r: bigint; s: bigint } | undefined {
  let i = 0
  const readLength = (): number | undefined => {
    const first = sig[i++]
    if (first === undefined) return undefined
    if (first < 0x80) return first
    const count = first & 0x7f
    if (count < 1 || count > 2) return undefined
    let len = 0
    for (let k = 0; k < count; k++) {
      const b = sig[i++]
      if (b === undefined) return undefined
      len = (len << 8) | b
    }
    return len
  }
  if (sig[i++] !== 0x30) return undefined
  const seqLen = readLength()
  if (seqLen === undefined || i + seqLen !== sig.length) return undefined
  const ints: bigint[] = []
  for (let k = 0; k < 2; k++) {
    if (sig[i++] !== 0x02) return undefined
    const len = readLength()
    if (len === undefined || len === 0 || i + len > sig.length) return undefined
    ints.push(toBigInt(sig.subarray(i, i + len)))
    i += len
  }
  if (i !== sig.length) return undefined
  return { r: ints[0]!, s: ints[1]! }
}

/** Whether the key type can verify a prehashed digest here (ECDSA P-256/P-384). */
export function canVerifyPrehashed(key: KeyObject): boolean {
  const curve = key.asymmetricKeyDetails?.namedCurve
  return key.asymmetricKeyType === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1')
}

/** Verifies a DER ECDSA signature over `digest` with an EC public key; false for anything else. */
export function verifyPrehashedEcdsa(digest: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  if (!canVerifyPrehashed(key)) return false
  const jwk = key.export({ format: 'jwk' })
  const c = jwk.crv ? CURVES[jwk.crv] : undefined
  if (!c || !jwk.x || !jwk.y) return false
  const sig = parseDerSignature(signature)
  if (!sig || sig.r <= 0n || sig.r >= c.n || sig.s <= 0n || sig.s >= c.n) return false
  const q: Point = {
    x: toBigInt(Buffer.from(jwk.x, 'base64url')),
    y: toBigInt(Buffer.from(jwk.y, 'base64url')),
  }
  // the leftmost bits of the digest, as many as the group order has (FIPS 186-4 §6.4)
  let e = toBigInt(digest)
  const excess = digest.length * 8 - c.n.toString(2).length
  if (excess > 0) e >>= BigInt(excess)
  const w = invert(sig.s, c.n)
  const point = add(
    c,
    multiply(c, mod(e * w, c.n), { x: c.gx, y: c.gy }),
    multiply(c, mod(sig.r * w, c.n), q),
  )
  return point !== null && mod(point.x, c.n) === sig.r
}
