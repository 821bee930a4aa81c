/**
 * Hostile output file names and credentials echoed by build commands: names with control characters
 * (or not UTF-8) never become artifacts (exit 2, BUILD_OUTPUT_NAME_INVALID); a URL's credentials never
 * reach build.log, build.json, the provenance, stdout or stderr.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import { fileNameProblem, quoteFileName, showControls } from '../../src/util/file-name.ts'
import { makeProject, ROOT, removeProject, runCli } from './helpers.ts'

const fixture = path.join(ROOT, 'fixtures')

const cleanup: string[] = []
after(() => {
  for (const p of cleanup) removeProject(p)
})

/** A project whose build writes one file per name (given as bytes, hex) into out/. */
function projectWriting(names: Buffer[], build: string[] = []): string {
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(p)
  writeFileSync(
    path.join(p, 'make.cjs'),
    [
      "const fs = require('node:fs')",
      "fs.mkdirSync('out', { recursive: true })",
      `for (const hex of ${JSON.stringify(names.map((n) => n.toString('hex')))})`,
      "  fs.writeFileSync(Buffer.concat([Buffer.from('out/'), Buffer.from(hex, 'hex')]), 'x')",
    ].join('\n'),
  )
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: [...build, 'node make.cjs'],
      outputs: ['out/*'],
    }),
  )
  return p
}

const HOSTILE: Array<[string, Buffer]> = [
  ['a line break and a forged command', Buffer.from('a\n::error::x.txt')],
  ['a carriage return', Buffer.from('a\rb.txt')],
  ['U+2028 line separator', Buffer.from('a\u2028b.txt')],
  ['U+2029 paragraph separator', Buffer.from('a\u2029b.txt')],
  ['an escape (terminal sequence)', Buffer.from('a\u001b[2Jb.txt')],
  ['DEL', Buffer.from('a\u007fb.txt')],
  ['a C1 control (NEL)', Buffer.from('a\u0085b.txt')],
  ['a bidi override', Buffer.from('evil\u202etxt.exe')],
  ['bytes that are not UTF-8', Buffer.from([0x61, 0xff, 0xfe, 0x2e, 0x74])],
]

for (const [what, name] of HOSTILE)
  test(`an output named with ${what} → exit 2 BUILD_OUTPUT_NAME_INVALID, no artifact`, async () => {
    const p = projectWriting([Buffer.from('good.txt'), name])
    const run = await runCli(['build', '-C', p, '--json'])
    assert.equal(run.code, 2, run.stdout + run.stderr)
    const err = JSON.parse(run.stdout).error
    assert.equal(err.code, 'BUILD_OUTPUT_NAME_INVALID')
    // the message names the file, quoted: no raw control character reaches the terminal
    assert.match(err.message, /^output "out\/a|^output "out\/evil/)
    assert.doesNotMatch(run.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202e]/)
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr)
    assert.match(run.stderr, /BUILD_OUTPUT_NAME_INVALID/)
    let artifacts: string[] = []
    try {
      artifacts = readdirSync(path.join(p, '.detbuild', 'artifacts'))
    } catch {
      // no artifacts folder at all: nothing was written
    }
    assert.deepEqual(artifacts, [])
  })

test('names with %, comma, colon and spaces are fine: they are escaped where they are printed', async () => {
  const names = ['a%0A,b:c.txt', 'with space.txt']
  const p = projectWriting(names.map((n) => Buffer.from(n)))
  const run = await runCli(['build', '-C', p])
  assert.equal(run.code, 0, run.stderr)
  assert.deepEqual(readdirSync(path.join(p, '.detbuild', 'artifacts')).sort(), names.sort())
})

test('fileNameProblem: NUL and every other control character, separators, bidi and U+FFFD', () => {
  for (const bad of ['a\u0000b', 'a\tb', 'a\nb', 'a\rb', 'a\u001bb', 'a\u007fb', 'a\u009bb', 'a\u2028b'])
    assert.match(fileNameProblem(bad) ?? '', /control character U\+/, JSON.stringify(bad))
  for (const bad of ['a\u202ab', 'a\u202eb', 'a\u2066b', 'a\u2069b'])
    assert.match(fileNameProblem(bad) ?? '', /control character/, JSON.stringify(bad))
  assert.match(fileNameProblem('a\ufffdb') ?? '', /not valid UTF-8/)
  assert.match(fileNameProblem('a\ud800b') ?? '', /not valid UTF-8/)
  for (const ok of ['pkg-1.0.0.tgz', 'a%0A,b:c', 'ünïcödé 😀.txt', '##[x]', '::error::x'])
    assert.equal(fileNameProblem(ok), null, ok)
  assert.equal(quoteFileName('a\nb\u2028c\u202e'), '"a\\nb\\u2028c\\u202e"')
})

test('a URL with credentials that the build echoes (and the commands hold) never reaches an output', async () => {
  const secret = 's3cr3t-T0ken'
  const url = `https://deploy:${secret}@registry.example.test/npm/`
  // printed in two writes with a pause between, so it reaches build.log in two chunks
  const echo = `node -e "const u = process.argv[1]; process.stdout.write('registry ' + u.slice(0, 20)); setTimeout(() => console.log(u.slice(20) + ' ?access_token=${secret}&x=1'), 50)" ${url}`
  const p = projectWriting([Buffer.from('ok.txt')], [echo, `echo "_authToken=${secret}"`])
  const run = await runCli(['build', '-C', p, '--json'])
  assert.equal(run.code, 0, run.stdout + run.stderr)
  const log = readFileSync(path.join(p, '.detbuild', 'build.log'), 'utf8')
  assert.match(log, /registry https:\/\/\*\*\*@registry\.example\.test\/npm\/ \?access_token=\*\*\*&x=1/)
  assert.match(log, /_authToken=\*\*\*/)
  for (const [name, text] of [
    ['build.log', log],
    ['build.json', readFileSync(path.join(p, '.detbuild', 'build.json'), 'utf8')],
    ['provenance.intoto.json', readFileSync(path.join(p, '.detbuild', 'provenance.intoto.json'), 'utf8')],
    ['stdout', run.stdout],
    ['stderr', run.stderr],
  ])
    assert.ok(!text!.includes(secret), `${name} holds the secret`)
  // the commands are still recorded, with the credential replaced
  assert.ok(readFileSync(path.join(p, '.detbuild', 'build.json'), 'utf8').includes('https://***@registry'))
})

test('the CLI error line shows control characters from a message instead of obeying them', async () => {
  const run = await runCli([
    'scan',
    '-C',
    path.dirname(fixture),
    '--sbom',
    'x\n\u001b[2Jforged\u2028y.json',
    '--offline-db',
    path.join(fixture, 'osv', 'records'),
  ])
  assert.equal(run.code, 2)
  assert.equal(
    run.stderr,
    'detbuild: error [SCAN_SBOM_MISSING]: x\\u000a\\u001b[2Jforged\\u2028y.json: SBOM not found\n',
  )
  assert.equal(showControls('a\r\n\u202eb\tc'), 'a\\u000d\\u000a\\u202eb\\u0009c')
})

test('offline, the build commands never see the registry credentials', async () => {
  const p = projectWriting([], ['mkdir -p out && printf "%s" "$npm_config_registry" > out/registry.txt'])
  const run = await runCli(['build', '-C', p], {
    npm_config_registry: 'http://deploy:s3cr3t-T0ken@127.0.0.1:9/npm/',
  })
  assert.equal(run.code, 0, run.stderr)
  assert.equal(
    readFileSync(path.join(p, '.detbuild', 'artifacts', 'registry.txt'), 'utf8'),
    'http://127.0.0.1:9/npm/',
  )
})
