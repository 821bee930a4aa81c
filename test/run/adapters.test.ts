/** `run`'s step adapters: each maps RunOptions to the step's own options; trust material stays in memory. */
import assert from 'node:assert/strict'
import { generateKeyPairSync, KeyObject } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import os from 'node:os'
import { test } from 'node:test'
import type { BuildResult } from '../../src/builder/index.ts'
import type { Context } from '../../src/config/index.ts'
import { toBuildOptions, toBuildStepResult } from '../../src/run/adapters/build.ts'
import type { RunWithContext } from '../../src/run/adapters/carried.ts'
import { toPolicyOptions } from '../../src/run/adapters/policy.ts'
import { signingOf, toSignFlags } from '../../src/run/adapters/signing.ts'
import { givenTrust, verifyTrust } from '../../src/run/adapters/trust.ts'
import type { RunOptions } from '../../src/run/options.ts'
import { silentLogger } from '../../src/util/log.ts'
import { loadTrust } from '../../src/verify/trust.ts'

const context: Context = Object.freeze({
  cwd: '/p',
  sourceDate: { epoch: 1700000000, from: 'git' as const },
  cacheRoot: '/cache',
  configFile: null,
  env: {},
  clock: () => new Date(0),
})

function options(extra: Partial<RunOptions> = {}): RunWithContext {
  return {
    context,
    cwd: '/p',
    out: '/p/.detbuild',
    steps: ['build', 'sbom', 'scan', 'policy', 'sign', 'bundle', 'verify'],
    build: { check: false, frozenLock: false },
    scan: { failOn: null, omitDev: false },
    policy: { warnOnly: false },
    sign: { mode: 'key', tlog: false, artifacts: true },
    verify: {},
    env: {},
    now: new Date(0),
    log: silentLogger,
    ...extra,
  }
}

const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

test("build: the run's credentials are withheld; the run's context (one source date) is the build's", () => {
  const o = options({ sign: { mode: 'key', keyPasswordEnv: 'MY_PASS', tlog: false, artifacts: true } })
  const b = toBuildOptions(o, { MY_PASS: 'x', SIGSTORE_ID_TOKEN: 't', PATH: '/bin' })
  assert.deepEqual(b.hostEnv, { PATH: '/bin' })
  assert.deepEqual(b.withheldEnv, ['MY_PASS'])
  assert.equal(b.context, context)
  const result = {
    manifest: { sourceDateEpoch: 1700000000 } as BuildResult['manifest'],
    outputs: [],
    reproducible: null,
    report: null,
    verdict: null,
    skipped: [],
    lockWritten: false,
  }
  const step = toBuildStepResult(result)
  assert.equal(step.facts?.build?.sourceDateEpoch, 1700000000)
  // nothing is carried: every step reads the one source date from the context, not a patched environment
  assert.equal(step.carry, undefined)
})

test("sign flags: only the chosen mode's own flags reach the sign step", () => {
  const sign = {
    mode: 'auto',
    key: 'k.pem',
    identityToken: 'jwt',
    fulcioUrl: 'https://f',
    rekorUrl: 'https://r',
    tlog: false,
    artifacts: true,
  } as const
  assert.deepEqual(toSignFlags(sign, 'key'), { key: 'k.pem', rekorUrl: 'https://r', tlog: false })
  assert.deepEqual(toSignFlags(sign, 'keyless'), {
    identityToken: 'jwt',
    fulcioUrl: 'https://f',
    rekorUrl: 'https://r',
  })
})

test("verify trusts this run's own key in memory, with an empty trusted root: nothing written to disk", async () => {
  const before = (await readdir(os.tmpdir())).filter((n) => n.startsWith('detbuild-run-'))
  const o = options({ sign: { mode: 'key', keyPem: pem, tlog: false, artifacts: true } })
  const signing = await signingOf(o, { env: {} })
  assert.equal(signing.mode, 'key')
  const trust = await verifyTrust(o, { env: {}, signing, signer: { type: 'key', keyId: 'x' } })
  assert.ok(trust.publicKey instanceof KeyObject)
  assert.equal(trust.publicKey.type, 'public')
  assert.equal(trust.key, undefined)
  assert.equal(trust.trustedRoot, undefined)
  assert.ok(trust.trustedRootData)
  assert.equal(trust.insecureIgnoreTlog, true)
  // the in-memory material loads as a file would
  const loaded = await loadTrust(trust, '/p')
  assert.equal(loaded.request.key?.type, 'public')
  assert.equal(loaded.request.requireTlog, false)
  assert.equal(loaded.trustedRootName, trust.trustedRootData.name)
  const after = (await readdir(os.tmpdir())).filter((n) => n.startsWith('detbuild-run-'))
  assert.deepEqual(after, before)
})

test('trust given for verify: used by policy and verify; a key without a log gets the empty root', async () => {
  const o = options({ verify: { key: 'given.pub' } })
  assert.deepEqual(Object.keys(givenTrust(o)).sort(), ['key', 'trustedRootData'])
  assert.equal(toPolicyOptions(o, givenTrust(o)).trust?.key, 'given.pub')
  assert.equal(toPolicyOptions(o, undefined).trust, undefined)
  assert.equal((await verifyTrust(o, { env: {} })).key, 'given.pub')
  const logged = options({ verify: { key: 'given.pub' }, sign: { mode: 'key', tlog: true, artifacts: true } })
  assert.equal(givenTrust(logged).trustedRootData, undefined)
})

test('in-memory and file trust material cannot be mixed', async () => {
  const publicKey = generateKeyPairSync('ed25519').publicKey
  await assert.rejects(loadTrust({ key: 'k.pub', publicKey }, '/p'), { code: 'VERIFY_USAGE' })
  await assert.rejects(
    loadTrust({ publicKey, trustedRoot: 'r.json', trustedRootData: { json: {}, name: 'x' } }, '/p'),
    { code: 'VERIFY_USAGE' },
  )
})
