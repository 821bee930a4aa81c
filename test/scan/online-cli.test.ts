/**
 * `detbuild scan` online, through the CLI: credentials in `--osv-url` are sent as Basic auth and appear
 * in no message or output; `--max-response-bytes` caps replies; a hostile reply's code reaches --json.
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { cli } from '../helpers/cli.ts'
import { loadRecords, type OsvFake, startOsvFake } from '../helpers/osv-server.ts'
import { recordsDir, tempDir, writeDirectSbom } from './helpers.ts'

const SECRET = 's3cret-T0ken'
const pkgs = [
  { name: 'minimist', version: '1.2.5' },
  { name: 'left-pad', version: '1.3.0' },
]

let fake: OsvFake
let work: { dir: string; cleanup: () => Promise<void> }

before(async () => {
  fake = await startOsvFake(loadRecords(recordsDir))
  work = await tempDir()
  await writeDirectSbom(path.join(work.dir, 'sbom.json'), pkgs)
})
after(async () => {
  await fake.close()
  await work.cleanup()
})

const withCredentials = (url: string): string => url.replace('http://', `http://ci-bot:${SECRET}@`)

const scan = (...args: string[]) =>
  cli(['scan', '--sbom', 'sbom.json', '--no-cache', '--retries', '0', ...args], { cwd: work.dir })

/** The text of every file the scan wrote. */
async function outputs(): Promise<string> {
  const dir = path.join(work.dir, '.detbuild')
  const names = await readdir(dir)
  return (await Promise.all(names.map((n) => readFile(path.join(dir, n), 'utf8')))).join('\n')
}

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

test('credentials in --osv-url are sent as Basic auth and never printed or written', async () => {
  fake.authorizations.length = 0
  for (const json of [false, true]) {
    const r = await scan('--osv-url', withCredentials(fake.url), '--debug', ...(json ? ['--json'] : []))
    assert.equal(r.code, 0, r.stderr)
    assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET))
    assert.ok(!(await outputs()).includes(SECRET))
    assert.ok(r.stdout.includes(fake.url), 'the URL is shown, without its userinfo')
  }
  const basic = `Basic ${Buffer.from(`ci-bot:${SECRET}`).toString('base64')}`
  assert.ok(fake.authorizations.length > 0)
  for (const a of fake.authorizations) assert.equal(a, basic)
})

test('credentials stay out of the messages when the server is unreachable (exit 3)', async () => {
  const url = `http://ci-bot:${SECRET}@127.0.0.1:${await closedPort()}`
  const r = await scan('--osv-url', url, '--debug', '--json')
  assert.equal(r.code, 3)
  const out = JSON.parse(r.stdout)
  assert.equal(out.complete, false)
  assert.match(out.uncheckedReasons['pkg:npm/minimist@1.2.5'], /^SCAN_OSV_UNAVAILABLE: /)
  assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET))
  assert.ok(!(await outputs()).includes(SECRET))
})

test('an unusable --osv-url is bad usage (exit 2) and its credentials are not echoed', async () => {
  for (const url of [
    `ftp://ci-bot:${SECRET}@example.invalid`,
    `http://ci-bot:${SECRET}@example.invalid/?key=1`,
    `ci-bot:${SECRET}@example`,
    `http://ci-bot%zz:${SECRET}@example.invalid`,
  ]) {
    const r = await scan('--osv-url', url, '--json')
    assert.equal(r.code, 2, url)
    assert.equal(JSON.parse(r.stdout).error.code, 'SCAN_USAGE')
    assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET))
  }
})

test('--max-response-bytes caps replies: over it, the packages are unchecked (exit 3) with the code', async () => {
  // the querybatch reply fits in 1,000 bytes; minimist's full record does not
  const r = await scan('--osv-url', fake.url, '--max-response-bytes', '1000', '--json')
  assert.equal(r.code, 3)
  const out = JSON.parse(r.stdout)
  assert.deepEqual(out.unchecked, ['pkg:npm/minimist@1.2.5'])
  assert.match(out.uncheckedReasons['pkg:npm/minimist@1.2.5'], /^SCAN_OSV_REPLY_TOO_LARGE: /)
  const text = await scan('--osv-url', fake.url, '--max-response-bytes', '1000')
  assert.equal(text.code, 3)
  assert.match(text.stdout, /pkg:npm\/minimist@1\.2\.5: SCAN_OSV_REPLY_TOO_LARGE: /)
  // the default is far above a real reply
  assert.equal((await scan('--osv-url', fake.url)).code, 0)
})

test('--max-response-bytes must be a positive integer', async () => {
  for (const bad of ['0', '-5', '1.5', 'lots']) {
    const r = await scan('--osv-url', fake.url, '--max-response-bytes', bad, '--json')
    assert.equal(r.code, 2, bad)
    assert.equal(JSON.parse(r.stdout).error.code, 'SCAN_USAGE')
  }
})

test('a hostile reply through the CLI: exit 3, the code and the package in --json and on stdout', async () => {
  fake.always.querybatch = {
    kind: 'rewrite',
    rewrite: (h) => ({ results: (h as { results: unknown[] }).results.map(() => null) }),
  }
  try {
    const r = await scan('--osv-url', fake.url, '--json')
    assert.equal(r.code, 3)
    const out = JSON.parse(r.stdout)
    assert.deepEqual(out.unchecked, ['pkg:npm/left-pad@1.3.0', 'pkg:npm/minimist@1.2.5'])
    for (const u of out.unchecked) assert.match(out.uncheckedReasons[u], /^SCAN_OSV_REPLY_INVALID: /)
    const vulns = JSON.parse(await readFile(path.join(work.dir, '.detbuild', 'vulns.json'), 'utf8'))
    assert.deepEqual(vulns.uncheckedReasons, out.uncheckedReasons)
  } finally {
    fake.always.querybatch = null
  }
})
