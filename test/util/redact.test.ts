/** Credential redaction: the function, and every output edge of the CLI with a user:token --osv-url. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { createLogger } from '../../src/util/log.ts'
import { createPlainProgress } from '../../src/util/progress.ts'
import { REDACTED, redactDeep, redactSecrets, urlSecrets, withoutCredentials } from '../../src/util/redact.ts'
import { WorkspaceFiles } from '../../src/workspace/index.ts'
import { cli } from '../helpers/cli.ts'
import { loadRecords, type OsvFake, startOsvFake } from '../helpers/osv-server.ts'
import { fixture, repoRoot, tempDir } from '../helpers/paths.ts'

test('user info in any URL scheme is replaced, up to the last @ before the host', () => {
  const cases: Array<[string, string]> = [
    ['https://user:tok@host/p', `https://${REDACTED}@host/p`],
    ['see http://ghp_abc123@github.com/o/r.git now', `see http://${REDACTED}@github.com/o/r.git now`],
    ['https://u:p@ss@host:8443/x?y=1', `https://${REDACTED}@host:8443/x?y=1`],
    ['git+ssh://tok@example.test/r', `git+ssh://${REDACTED}@example.test/r`],
    ['git+ssh://git:pw@example.test/r', `git+ssh://${REDACTED}@example.test/r`],
    ['"url":"https://a:b@h/"', `"url":"https://${REDACTED}@h/"`],
    ['HTTPS://A:B@H', `HTTPS://${REDACTED}@H`],
  ]
  for (const [input, want] of cases) assert.equal(redactSecrets(input), want, input)
})

test('secret query values and npmrc auth settings are replaced; other text is left alone', () => {
  assert.equal(
    redactSecrets('GET https://h/v1?access_token=abc&page=2&token=def#f'),
    `GET https://h/v1?access_token=${REDACTED}&page=2&token=${REDACTED}#f`,
  )
  assert.equal(
    redactSecrets('https://s3/x?X-Amz-Signature=deadbeef'),
    `https://s3/x?X-Amz-Signature=${REDACTED}`,
  )
  assert.equal(
    redactSecrets('//registry.example/:_authToken=npm_XYZ'),
    `//registry.example/:_authToken=${REDACTED}`,
  )
  assert.equal(redactSecrets('_auth = "dXNlcjpwYXNz"'), `_auth = "${REDACTED}"`)
  for (const plain of [
    'pkg:npm/%40scope/name@1.0.0',
    'git+ssh://git@github.com/o/r.git',
    'https://registry.npmjs.org/@scope/name/-/name-1.0.0.tgz',
    'lodash@4.17.20 a=b',
    'https://host/path@v1',
    'user@example.test',
    'https://h/?page=2&keys=1',
    '',
  ])
    assert.equal(redactSecrets(plain), plain, plain)
})

test('redactDeep: every string of a JSON value, keys too; JSON stays valid when text is redacted', () => {
  const value = { a: ['https://u:t@h/'], b: { 'https://u:t@k': 1, n: null, x: 2, ok: true } }
  assert.deepEqual(redactDeep(value), {
    a: [`https://${REDACTED}@h/`],
    b: { [`https://${REDACTED}@k`]: 1, n: null, x: 2, ok: true },
  })
  const text = JSON.stringify({ url: 'https://u:t@h/', mail: 'a@b', q: 'https://h/?token=x"y' })
  assert.doesNotThrow(() => JSON.parse(redactSecrets(text)))
  assert.ok(!redactSecrets(text).includes('u:t'))
})

test('withoutCredentials: no user info, no secret query values; anything else untouched', () => {
  assert.equal(withoutCredentials('https://u:p@h.test/npm/?token=t&x=1'), 'https://h.test/npm/?x=1')
  assert.equal(withoutCredentials('https://h.test/npm/'), 'https://h.test/npm/')
  assert.equal(withoutCredentials('not a url'), 'not a url')
})

test('urlSecrets: user name, password and secret query values, raw and decoded', () => {
  assert.deepEqual(urlSecrets('https://us%40er:p%2Fw@h/?token=q1&page=2'), [
    'p%2Fw',
    'p/w',
    'q1',
    'us%40er',
    'us@er',
  ])
  assert.deepEqual(urlSecrets('https://h/'), [])
  assert.deepEqual(urlSecrets('not a url'), [])
})

test('the logger and the plain progress redact what they print', () => {
  const lines: string[] = []
  const log = createLogger({ write: (l) => lines.push(l), debug: true })
  log.info('GET https://u:t0ken@h/')
  log.warn('w https://u:t0ken@h/')
  log.debug('d https://u:t0ken@h/')
  createPlainProgress((l) => log.info(l)).onEnd(
    { name: 's', status: 'ok', detail: 'https://u:t0ken@h' },
    0,
    1,
  )
  assert.equal(lines.length, 4)
  for (const l of lines) assert.ok(!l.includes('t0ken') && l.includes(`${REDACTED}@h`), l)
})

// --- every output edge of the CLI, with a token in --osv-url ---

const TOKEN = 'osv-T0ken-s3cret'
let fake: OsvFake
let work: string
before(async () => {
  fake = await startOsvFake(loadRecords(path.join(repoRoot, 'fixtures', 'osv', 'records')))
  work = tempDir()
  const sbom = await cli(['sbom', '-C', fixture('vulnerable-app'), '--out', work, '-q'])
  assert.equal(sbom.code, 0, sbom.stderr)
})
after(() => fake.close())

const osvUrl = () => fake.url.replace('http://', `http://scanner:${TOKEN}@`)

test('--osv-url user:token: the token is in no stdout, stderr, --json, vulns.json or other scan file', async () => {
  for (const args of [['--json'], ['--debug'], []]) {
    const run = await cli([
      ...args,
      'scan',
      '-C',
      fixture('vulnerable-app'),
      '--out',
      work,
      '--sbom',
      path.join(work, 'sbom.cdx.json'),
      '--osv-url',
      osvUrl(),
      '--no-cache',
      '--retries',
      '0',
    ])
    // the credentials go to the server as Basic auth (the scan works), and are shown nowhere
    assert.equal(run.code, 0, run.stdout + run.stderr)
    assert.ok(!run.stdout.includes(TOKEN), `stdout ${args}: ${run.stdout}`)
    assert.ok(!run.stderr.includes(TOKEN), `stderr ${args}: ${run.stderr}`)
    if (args[0] === '--json') JSON.parse(run.stdout)
    const vulns = readFileSync(path.join(work, 'vulns.json'), 'utf8')
    assert.ok(!vulns.includes(TOKEN), vulns)
    assert.equal(JSON.parse(vulns).source.url, fake.url)
    for (const f of [WorkspaceFiles.vulnsSarif, WorkspaceFiles.vulnsMarkdown, WorkspaceFiles.vulnsSbom])
      assert.ok(!readFileSync(path.join(work, f), 'utf8').includes(TOKEN), f)
  }
})
