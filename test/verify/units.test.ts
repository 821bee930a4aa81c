import assert from 'node:assert/strict'
import { createHash, generateKeyPairSync, sign, verify, webcrypto } from 'node:crypto'
import { test } from 'node:test'
import { verifyPrehashedEcdsa } from '../../src/verify/ecdsa-prehashed.ts'
import { parseDigestArtifact } from '../../src/verify/options.ts'
import { checkTrustedRoot } from '../../src/verify/trusted-root.ts'

test('prehashed ECDSA verifies P-256/P-384 signatures over a digest and rejects a changed digest', () => {
  for (const namedCurve of ['P-256', 'P-384']) {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve })
    const data = Buffer.from('artifact')
    const signature = sign('sha256', data, privateKey)
    const digest = createHash('sha256').update(data).digest()
    assert.equal(verifyPrehashedEcdsa(digest, publicKey, signature), true)
    digest[0] = digest[0]! ^ 1
    assert.equal(verifyPrehashedEcdsa(digest, publicKey, signature), false)
    assert.equal(verifyPrehashedEcdsa(digest, publicKey, Buffer.from('not der')), false)
  }
  const ed = generateKeyPairSync('ed25519')
  assert.equal(verifyPrehashedEcdsa(Buffer.alloc(32), ed.publicKey, Buffer.alloc(64)), false)
})

test("Node's crypto cannot verify ECDSA over a digest: it hashes its input (why @noble/curves does it)", async () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const data = Buffer.from('artifact')
  const digest = createHash('sha256').update(data).digest()
  const signature = sign('sha256', data, privateKey)
  // with no algorithm an EC key hashes with SHA-256: the message verifies, the digest does not
  assert.equal(verify(null, data, publicKey, signature), true)
  for (const algorithm of [null, 'sha256', 'sha384', 'sha512'])
    assert.equal(verify(algorithm, digest, publicKey, signature), false, String(algorithm))
  // WebCrypto's ECDSA takes a hash algorithm and hashes too; it has no "none"
  const key = await webcrypto.subtle.importKey(
    'jwk',
    publicKey.export({ format: 'jwk' }),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['verify'],
  )
  const raw = p1363(signature, 32)
  assert.equal(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, data), true)
  assert.equal(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, digest), false)
  await assert.rejects(webcrypto.subtle.verify({ name: 'ECDSA', hash: 'none' } as never, key, raw, digest))
  // the library does what Node cannot
  assert.equal(verifyPrehashedEcdsa(digest, publicKey, signature), true)
})

/** DER SEQUENCE { r, s } → r ‖ s, each `size` bytes (WebCrypto's signature format). */
function p1363(der: Buffer, size: number): Buffer {
  const { r, s } = derInts(der)
  return Buffer.concat([r, s].map((v) => Buffer.from(v.toString(16).padStart(size * 2, '0'), 'hex')))
}

/** The two INTEGERs of a well-formed DER ECDSA signature (short or 0x81 long-form SEQUENCE length). */
function derInts(der: Buffer): { r: bigint; s: bigint } {
  let i = der[1]! & 0x80 ? 3 : 2
  const read = (): bigint => {
    const len = der[i + 1]!
    const value = BigInt(`0x${der.subarray(i + 2, i + 2 + len).toString('hex')}`)
    i += 2 + len
    return value
  }
  const r = read()
  return { r, s: read() }
}

test('prehashed ECDSA accepts and rejects exactly the signatures OpenSSL does over the message', () => {
  const ORDER = {
    'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    'P-384':
      0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  }
  /** The minimal DER INTEGER body of a non-negative value. */
  const int = (v: bigint): Buffer => {
    const hex = v.toString(16)
    const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')
    return bytes[0]! & 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes
  }
  const tlv = (tag: number, body: Buffer): Buffer =>
    Buffer.concat([
      Buffer.of(tag),
      body.length < 128 ? Buffer.of(body.length) : Buffer.of(0x81, body.length),
      body,
    ])
  const der = (r: Buffer, s: Buffer): Buffer => tlv(0x30, Buffer.concat([tlv(2, r), tlv(2, s)]))
  for (const namedCurve of ['P-256', 'P-384'] as const) {
    const n = ORDER[namedCurve]
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve })
    for (let round = 0; round < 8; round++) {
      const data = Buffer.from(`artifact ${round}`)
      const digest = createHash('sha256').update(data).digest()
      const signature = sign('sha256', data, privateKey)
      const { r, s } = derInts(signature)
      const unpadded = (v: bigint) => Buffer.from(int(v).subarray(int(v)[0] === 0 ? 1 : 0))
      const cases: Array<[string, Buffer, boolean]> = [
        ['as signed', signature, true],
        [
          'high S (n - s): malleable, but neither OpenSSL nor sigstore require low S',
          der(int(r), int(n - s)),
          true,
        ],
        ['r padded with a needless zero byte', der(Buffer.concat([Buffer.of(0), int(r)]), int(s)), false],
        [
          'SEQUENCE length in long form',
          Buffer.concat([Buffer.of(0x30, 0x81, signature.length - 2), signature.subarray(2)]),
          false,
        ],
        ['a trailing byte', Buffer.concat([signature, Buffer.of(0)]), false],
        ['one byte short', signature.subarray(0, -1), false],
        ['empty', Buffer.alloc(0), false],
        ['r = 0', der(int(0n), int(s)), false],
        ['s = n', der(int(r), int(n)), false],
        ['r + n', der(int(r + n), int(s)), false],
        ['r and s swapped', der(int(s), int(r)), false],
      ]
      // r without its sign byte reads as negative: invalid DER whenever r's top bit is set
      if (int(r)[0] === 0) cases.push(['r negative (sign byte dropped)', der(unpadded(r), int(s)), false])
      for (const [name, sig, expected] of cases) {
        const openssl = (() => {
          try {
            return verify('sha256', data, publicKey, sig)
          } catch {
            return false
          }
        })()
        assert.equal(openssl, expected, `${namedCurve} ${name}: OpenSSL over the message`)
        assert.equal(verifyPrehashedEcdsa(digest, publicKey, sig), expected, `${namedCurve} ${name}`)
      }
    }
  }
})

test('prehashed ECDSA truncates a digest longer than the curve order, and rejects other key types', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const data = Buffer.from('artifact')
  const signature = sign('sha512', data, privateKey)
  assert.equal(verifyPrehashedEcdsa(createHash('sha512').update(data).digest(), publicKey, signature), true)
  assert.equal(verifyPrehashedEcdsa(createHash('sha256').update(data).digest(), publicKey, signature), false)
  assert.equal(verifyPrehashedEcdsa(Buffer.alloc(0), publicKey, signature), false)
  for (const namedCurve of ['P-521', 'secp256k1']) {
    const other = generateKeyPairSync('ec', { namedCurve })
    const digest = createHash('sha256').update(data).digest()
    assert.equal(
      verifyPrehashedEcdsa(digest, other.publicKey, sign('sha256', data, other.privateKey)),
      false,
      namedCurve,
    )
  }
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
  assert.equal(verifyPrehashedEcdsa(Buffer.alloc(32), rsa.publicKey, Buffer.alloc(128)), false)
})

test('a trusted root whose validity range has no start is rejected; a complete one passes', () => {
  const root = (validFor: unknown) => ({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{ publicKey: { rawBytes: 'AA==', validFor }, logId: { keyId: 'AA==' } }],
  })
  assert.deepEqual(checkTrustedRoot(root({ start: '2021-01-01T00:00:00Z' })), [])
  assert.deepEqual(checkTrustedRoot(root(undefined)), [])
  assert.equal(checkTrustedRoot(root({})).length, 1)
  assert.equal(checkTrustedRoot(root({ end: '2022-01-01T00:00:00Z' })).length, 1)
  assert.equal(
    checkTrustedRoot(root({ start: '2022-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' })).length,
    1,
  )
  assert.equal(checkTrustedRoot({ mediaType: 'x' }).length, 1)
})

test('artifact digest forms', () => {
  const hex = 'a'.repeat(64)
  assert.deepEqual(parseDigestArtifact(`sha256:${hex}`), { kind: 'digest', algorithm: 'sha256', hex })
  assert.deepEqual(parseDigestArtifact(`SHA256:${hex.toUpperCase()}`), {
    kind: 'digest',
    algorithm: 'sha256',
    hex,
  })
  assert.equal(parseDigestArtifact('dist/app.tgz'), undefined)
  assert.throws(() => parseDigestArtifact('sha256:abc'), { code: 'VERIFY_USAGE' })
  assert.throws(() => parseDigestArtifact(`sha1:${'a'.repeat(40)}`), { code: 'VERIFY_USAGE' })
})
