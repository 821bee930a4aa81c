/**
 * `--key-password-env NAME` reads NAME (for keygen, sign, bundle and run), and every message about the
 * passphrase names the variable, never its value.
 */
import assert from 'node:assert/strict'
import { cpSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { cli } from '../helpers/cli.ts'
import { fixture, tempDir } from '../helpers/paths.ts'

const SECRET = 'correct horse battery staple'

function project(): string {
  const dir = path.join(tempDir('detbuild-secret-'), 'proj')
  cpSync(fixture('small-app'), dir, { recursive: true })
  return dir
}

test('keygen --key-password-env NAME encrypts with NAME and says so', async () => {
  const dir = project()
  const r = await cli(['-C', dir, '--json', 'keygen', '--key-password-env', 'MY_KEY_PW'], {
    env: { MY_KEY_PW: SECRET },
  })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(JSON.parse(r.stdout).encrypted, true)
  assert.match(readFileSync(path.join(dir, 'detbuild.key'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/)
  // NAME unset: the warning names NAME (not the default variable)
  const plain = await cli([
    '-C',
    dir,
    'keygen',
    '--force',
    '--output-prefix',
    'plain',
    '--key-password-env',
    'OTHER_PW',
  ])
  assert.equal(plain.code, 0)
  assert.match(plain.stderr, /OTHER_PW is not set/)
  assert.doesNotMatch(plain.stderr, /DETBUILD_KEY_PASSWORD/)
})

test('sign, bundle and run: an encrypted key without its passphrase names the variable given, never the value', async () => {
  const dir = project()
  assert.equal(
    (
      await cli(['-C', dir, '-q', 'keygen', '--key-password-env', 'MY_KEY_PW'], {
        env: { MY_KEY_PW: SECRET },
      })
    ).code,
    0,
  )
  for (const args of [
    ['sign', '--key', 'detbuild.key', '--no-tlog', '--key-password-env', 'MY_KEY_PW'],
    ['bundle', '--key', 'detbuild.key', '--no-tlog', '--key-password-env', 'MY_KEY_PW'],
  ]) {
    // the passphrase is in the default variable, not in the one named: it must not be used or shown
    const r = await cli(['-C', dir, '--json', ...args], { env: { DETBUILD_KEY_PASSWORD: SECRET } })
    assert.equal(r.code, 2, `${args[0]}: ${r.stdout}`)
    const error = JSON.parse(r.stdout).error
    assert.equal(error.code, 'SIGN_KEY_PASSPHRASE_REQUIRED')
    assert.match(error.message, /MY_KEY_PW/)
    assert.equal(error.details.passwordEnv, 'MY_KEY_PW')
    assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET))
    // a wrong value: named by variable, value not echoed
    const wrong = await cli(['-C', dir, '--json', ...args], { env: { MY_KEY_PW: 'not-the-secret-value' } })
    assert.equal(wrong.code, 2)
    const e2 = JSON.parse(wrong.stdout).error
    assert.equal(e2.code, 'SIGN_KEY_PASSPHRASE_WRONG')
    assert.match(e2.message, /MY_KEY_PW/)
    assert.ok(
      !wrong.stdout.includes('not-the-secret-value') && !wrong.stderr.includes('not-the-secret-value'),
    )
  }
  const run = await cli(
    [
      '-C',
      dir,
      '--json',
      'run',
      '--steps',
      'sign',
      '--sign',
      'key',
      '--key',
      'detbuild.key',
      '--key-password-env',
      'MY_KEY_PW',
    ],
    { env: { DETBUILD_KEY_PASSWORD: SECRET } },
  )
  assert.equal(run.code, 2, run.stdout)
  const step = (
    JSON.parse(run.stdout) as { steps: Array<{ error?: { code: string; message: string } }> }
  ).steps.find((s) => s.error)
  assert.equal(step?.error?.code, 'SIGN_KEY_PASSPHRASE_REQUIRED')
  assert.match(step?.error?.message ?? '', /MY_KEY_PW/)
  assert.ok(!run.stdout.includes(SECRET) && !run.stderr.includes(SECRET))
  // the default variable is named when no flag is given
  const def = await cli(['-C', dir, '--json', 'sign', '--key', 'detbuild.key', '--no-tlog'])
  assert.equal(def.code, 2)
  assert.match(JSON.parse(def.stdout).error.message, /DETBUILD_KEY_PASSWORD/)
})
