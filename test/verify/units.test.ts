import assert from 'node:assert/strict'
import { createHash, generateKeyPairSync, sign } from 'node:crypto'
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
