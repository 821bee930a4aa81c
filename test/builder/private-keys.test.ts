/** A private key committed to the source never reaches the staged tree, so no build can read or pack it. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import { holdsPrivateKey } from '../../src/builder/stage.ts'
import { generateKeyPairPem } from '../../src/sign/keys.ts'
import { makeProject, removeProject, runCli } from './helpers.ts'

const projects: string[] = []
after(() => {
  for (const p of projects) removeProject(p)
})

test('holdsPrivateKey: PKCS#8 (plain and encrypted), RSA, EC and OpenSSH keys; not a public key', () => {
  const pair = generateKeyPairPem('ecdsa-p256', undefined)
  const encrypted = generateKeyPairPem('ed25519', 'pass')
  assert.ok(holdsPrivateKey(Buffer.from(pair.privateKeyPem)))
  assert.ok(holdsPrivateKey(Buffer.from(encrypted.privateKeyPem)))
  for (const kind of ['RSA ', 'EC ', 'OPENSSH ', 'DSA '])
    assert.ok(holdsPrivateKey(Buffer.from(`x\n-----BEGIN ${kind}PRIVATE KEY-----\nAAAA\n`)), kind)
  assert.ok(holdsPrivateKey(Buffer.concat([Buffer.from([0, 0xff]), Buffer.from(pair.privateKeyPem)])))
  assert.equal(holdsPrivateKey(Buffer.from(pair.publicKeyPem)), false)
  assert.equal(holdsPrivateKey(Buffer.from('no key here')), false)
})

for (const git of [true, false])
  test(`a committed private key is left out of the staged source, with one warning (${git ? 'git' : 'include globs'})`, async () => {
    const p = makeProject('unreproducible', { git: false })
    projects.push(p)
    writeFileSync(path.join(p, 'release.key'), generateKeyPairPem('ed25519', undefined).privateKeyPem)
    writeFileSync(
      path.join(p, 'list.cjs'),
      [
        "const fs = require('node:fs')",
        "fs.mkdirSync('out', { recursive: true })",
        "fs.writeFileSync('out/seen.txt', fs.readdirSync('.').sort().join('\\n'))",
      ].join('\n'),
    )
    writeFileSync(
      path.join(p, 'detbuild.config.json'),
      JSON.stringify({
        toolchain: { node: 'system' },
        install: [],
        build: ['node list.cjs'],
        outputs: ['out/*'],
        include: ['**'],
      }),
    )
    if (git) {
      const run = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], {
          cwd: p,
          stdio: 'ignore',
        })
      run('init', '-q')
      run('add', '-A')
      run('commit', '-qm', 'with a key')
    }
    const r = await runCli(['build', '-C', p])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const seen = readFileSync(path.join(p, '.detbuild', 'artifacts', 'seen.txt'), 'utf8').split('\n')
    assert.ok(seen.includes('list.cjs'), seen.join(' '))
    assert.ok(!seen.includes('release.key'), seen.join(' '))
    const warnings = r.stderr.split('\n').filter((l) => l.includes('release.key: holds a private key'))
    assert.equal(warnings.length, 1, r.stderr)
  })
