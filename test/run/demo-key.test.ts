/** `run --demo`'s throwaway private key is never on disk: the build (run before signing) cannot find it. */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { holdsPrivateKey } from '../../src/builder/stage.ts'
import { prepareDemo } from '../../src/run/demo.ts'
import { toPrivateKey } from '../../src/sign/keys.ts'

test('prepareDemo keeps the private key in memory; its folder holds the public key and trusted root only', async () => {
  const demo = await prepareDemo()
  const dir = path.dirname(demo.publicKey)
  try {
    assert.equal(toPrivateKey(demo.keyPem, undefined, 'demo').asymmetricKeyType, 'ed25519')
    const names = readdirSync(dir).sort()
    assert.deepEqual(names, ['throwaway.pub', 'trusted_root.json'])
    for (const name of names) assert.ok(!holdsPrivateKey(readFileSync(path.join(dir, name))), name)
    await demo.dispose()
    assert.deepEqual(readdirSync(dir).sort(), names, 'the public key stays for re-verification')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
