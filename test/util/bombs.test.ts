/**
 * Depth and size bombs: YAML alias expansion ("billion laughs"), deeply nested JSON and YAML, and
 * inputs over the size cap are exit 2 naming the file; none overflows the stack (exit 70).
 */
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { canonicalJson, stableJson } from '../../src/util/canonical-json.ts'
import {
  DEFAULT_MAX_INPUT_BYTES,
  maxInputBytesFor,
  readTextFile,
  setMaxInputBytes,
} from '../../src/util/fs.ts'
import { assertMaxDepth, jsonDepthExceededAt, MAX_INPUT_DEPTH, parseJson } from '../../src/util/json-parse.ts'
import { cli } from '../helpers/cli.ts'
import { fixture, tempDir } from '../helpers/paths.ts'

/** Nine levels of nine aliases each: 9^9 strings when expanded. */
const BILLION_LAUGHS = (() => {
  let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
  let prev = 'a'
  for (const n of 'bcdefghi') {
    text += `${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]\n`
    prev = n
  }
  return text
})()

const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`

function project(): string {
  const dir = path.join(tempDir('detbuild-bombs-'), 'proj')
  cpSync(fixture('small-app'), dir, { recursive: true })
  return dir
}

interface ErrorJson {
  code: string
  message: string
  file?: string
  details?: { limit?: number }
}

async function failing(args: string[]): Promise<{ code: number; error: ErrorJson; stderr: string }> {
  const r = await cli(['--json', ...args])
  const doc = JSON.parse(r.stdout) as { error?: ErrorJson; steps?: Array<{ error?: ErrorJson }> }
  const error = doc.error ?? doc.steps?.find((s) => s.error)?.error
  assert.ok(error, r.stdout)
  const text = await cli(args)
  assert.doesNotMatch(`${text.stderr}${text.stdout}`, /this is a bug/)
  return { code: r.code, error, stderr: text.stderr }
}

test('a billion-laughs policy is exit 2 INPUT_YAML_ALIASES naming it', async () => {
  const dir = project()
  writeFileSync(path.join(dir, 'laughs.yaml'), `version: 1\n${BILLION_LAUGHS}`)
  assert.equal((await cli(['-C', dir, '-q', 'sbom'])).code, 0)
  const r = await failing(['-C', dir, 'policy', '--policy', 'laughs.yaml'])
  assert.equal(r.code, 2)
  assert.equal(r.error.code, 'INPUT_YAML_ALIASES')
  assert.equal(r.error.file, 'laughs.yaml')
  assert.equal(r.error.details?.limit, 100)
})

test('a billion-laughs config is exit 2 INPUT_YAML_ALIASES naming it (lock, build, run)', async () => {
  const dir = project()
  writeFileSync(path.join(dir, 'detbuild.config.yaml'), BILLION_LAUGHS)
  for (const args of [['lock', '--registry', 'http://127.0.0.1:9'], ['build'], ['run', '--steps', 'sbom']]) {
    const r = await failing(['-C', dir, ...args])
    assert.equal(r.code, 2, args[0])
    assert.equal(r.error.code, 'INPUT_YAML_ALIASES', args[0])
    assert.equal(r.error.file, 'detbuild.config.yaml')
  }
})

test('a billion-laughs ignore file is exit 2 INPUT_YAML_ALIASES naming it', async () => {
  const dir = project()
  assert.equal((await cli(['-C', dir, '-q', 'sbom'])).code, 0)
  writeFileSync(path.join(dir, 'detbuild.ignore.yaml'), `ignore: []\n${BILLION_LAUGHS}`)
  const r = await failing(['-C', dir, 'scan', '--offline-db', fixture('osv', 'records')])
  assert.equal(r.code, 2)
  assert.equal(r.error.code, 'INPUT_YAML_ALIASES')
  assert.equal(r.error.file, 'detbuild.ignore.yaml')
})

test('a 100k-deep SBOM is exit 2 INPUT_TOO_DEEP for scan and policy', async () => {
  const dir = project()
  const file = path.join(dir, 'deep.cdx.json')
  writeFileSync(
    file,
    `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[],"metadata":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`,
  )
  for (const args of [
    ['scan', '--sbom', 'deep.cdx.json', '--offline-db', fixture('osv', 'records')],
    ['policy', '--sbom', 'deep.cdx.json'],
  ]) {
    const r = await failing(['-C', dir, ...args])
    assert.equal(r.code, 2, args[0])
    assert.equal(r.error.code, 'INPUT_TOO_DEEP', args[0])
    assert.equal(r.error.file, 'deep.cdx.json')
    assert.match(r.error.message, /deeper than 512 levels at line 1, column \d+/)
  }
})

test('a 100k-deep lockfile, config and policy are exit 2 naming the file', async () => {
  const lockDir = project()
  writeFileSync(path.join(lockDir, 'package-lock.json'), `{"lockfileVersion":3,"x":${deepJson(100_000)}}`)
  const lock = await failing(['-C', lockDir, 'sbom'])
  assert.equal(lock.code, 2)
  assert.equal(lock.error.code, 'INPUT_TOO_DEEP')
  assert.equal(lock.error.file, 'package-lock.json')

  const configDir = project()
  writeFileSync(path.join(configDir, 'detbuild.config.json'), deepJson(100_000))
  const config = await failing(['-C', configDir, 'build'])
  assert.equal(config.code, 2)
  assert.equal(config.error.code, 'INPUT_TOO_DEEP')
  assert.equal(config.error.file, 'detbuild.config.json')

  // YAML: flow style and block style, deeper than the parser's stack
  const dir = project()
  assert.equal((await cli(['-C', dir, '-q', 'sbom'])).code, 0)
  for (const [name, text] of [
    ['flow.yaml', `version: 1\nx: ${deepJson(100_000)}\n`],
    [
      'block.yaml',
      `version: 1\n${Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1\n`,
    ],
    ['just-deep.yaml', `version: 1\nx: ${deepJson(600)}\n`],
  ]) {
    writeFileSync(path.join(dir, name!), text!)
    const r = await failing(['-C', dir, 'policy', '--policy', name!])
    assert.equal(r.code, 2, name)
    assert.ok(['INPUT_TOO_DEEP', 'POLICY_INVALID'].includes(r.error.code), `${name}: ${r.error.code}`)
    assert.equal(r.error.file, name)
  }
})

test('JSON depth: the cap is exact, brackets in strings do not count, the scan is iterative', () => {
  assert.equal(MAX_INPUT_DEPTH, 512)
  assert.deepEqual(parseJson(deepJson(512), 'f.json'), JSON.parse(deepJson(512)))
  assert.throws(
    () => parseJson(deepJson(513), 'f.json'),
    (e: { code: string; file: string; exitCode: number }) =>
      e.code === 'INPUT_TOO_DEEP' && e.file === 'f.json' && e.exitCode === 2,
  )
  const inString = JSON.stringify({ s: '['.repeat(10_000), t: '\\"[[[[' })
  assert.equal(jsonDepthExceededAt(inString), -1)
  assert.ok(parseJson(inString, 'f.json'))
  assert.equal(jsonDepthExceededAt(deepJson(1_000_000)), 512)
  // the walk over parsed values (YAML results) is iterative too
  let deep: unknown = 1
  for (let i = 0; i < 100_000; i++) deep = [deep]
  assert.throws(() => assertMaxDepth(deep, 'x.yaml'), { code: 'INPUT_TOO_DEEP', file: 'x.yaml' })
})

test('canonical JSON refuses a value nested deeper than 1000 levels instead of overflowing', () => {
  let deep: unknown = 1
  for (let i = 0; i < 100_000; i++) deep = { a: deep }
  assert.throws(() => canonicalJson(deep), { code: 'INPUT_TOO_DEEP' })
  assert.throws(() => stableJson(deep), { code: 'INPUT_TOO_DEEP' })
  let ok: unknown = 1
  for (let i = 0; i < 600; i++) ok = [ok]
  assert.equal(canonicalJson(ok), JSON.stringify(ok))
})

test('--max-input-bytes: an SBOM over the cap is exit 2 INPUT_TOO_LARGE naming the file and the cap', async () => {
  const dir = project()
  assert.equal((await cli(['-C', dir, '-q', 'sbom'])).code, 0)
  const r = await failing([
    '-C',
    dir,
    '--max-input-bytes',
    '100',
    'scan',
    '--offline-db',
    fixture('osv', 'records'),
  ])
  assert.equal(r.code, 2)
  assert.equal(r.error.code, 'INPUT_TOO_LARGE')
  assert.equal(r.error.file, '.detbuild/sbom.cdx.json')
  assert.equal(r.error.details?.limit, 100)
  assert.match(r.error.message, /over the 100-byte input limit/)
  // the same files under the default cap are fine, and the cap does not leak into the next run
  const ok = await cli(['-C', dir, '-q', 'scan', '--offline-db', fixture('osv', 'records')])
  assert.equal(ok.code, 0, ok.stderr)
  // a lockfile over the cap, before Arborist sees it
  const lock = await failing(['-C', dir, '--max-input-bytes', '50', 'sbom'])
  assert.equal(lock.code, 2)
  assert.equal(lock.error.code, 'INPUT_TOO_LARGE')
  assert.equal(lock.error.file, 'package.json')
})

test('--max-input-bytes must be a positive whole number', async () => {
  for (const bad of ['0', '-1', '1.5', 'lots']) {
    const r = await failing(['--max-input-bytes', bad, 'sbom'])
    assert.equal(r.code, 2, bad)
    assert.equal(r.error.code, 'USAGE_MAX_INPUT_BYTES', bad)
  }
})

test('the default caps: generous for data, smaller for configuration, one flag for both', () => {
  assert.equal(DEFAULT_MAX_INPUT_BYTES.data, 256 * 1024 * 1024)
  assert.ok(DEFAULT_MAX_INPUT_BYTES.config < DEFAULT_MAX_INPUT_BYTES.data)
  assert.equal(maxInputBytesFor('config'), DEFAULT_MAX_INPUT_BYTES.config)
  setMaxInputBytes(10)
  assert.equal(maxInputBytesFor('data'), 10)
  assert.equal(maxInputBytesFor('config'), 10)
  setMaxInputBytes(undefined)
  assert.equal(maxInputBytesFor('data'), DEFAULT_MAX_INPUT_BYTES.data)
})

test('a config over the config cap is refused before parsing', async () => {
  const dir = project()
  mkdirSync(path.join(dir, 'cfg'))
  writeFileSync(path.join(dir, 'cfg', 'big.json'), `{"x":"${'a'.repeat(2000)}"}`)
  const r = await failing(['-C', dir, '--max-input-bytes', '1000', 'build', '--config', 'cfg/big.json'])
  assert.equal(r.code, 2)
  assert.equal(r.error.code, 'INPUT_TOO_LARGE')
  assert.equal(r.error.file, 'cfg/big.json')
})

test('the cap holds for a file whose size fstat cannot tell (a pipe), while reading', async () => {
  const dir = tempDir('detbuild-bombs-fifo-')
  const fifo = path.join(dir, 'pipe.json')
  execFileSync('mkfifo', [fifo])
  // the writer outlives the reader's refusal: it gets EPIPE, which is its own business
  const writer = spawn('sh', ['-c', `head -c 300000 /dev/zero | tr '\\0' ' ' > ${fifo} 2>/dev/null || true`])
  setMaxInputBytes(100_000)
  try {
    await assert.rejects(readTextFile(fifo, 'SBOM_LOCKFILE_UNREADABLE', 'pipe.json'), {
      code: 'INPUT_TOO_LARGE',
      file: 'pipe.json',
    })
  } finally {
    setMaxInputBytes(undefined)
    writer.kill()
  }
})
