import assert from 'node:assert/strict'
import { test } from 'node:test'
import { inputVariable, readInputs, toActionSecrets } from '../../src/action/inputs.ts'
import {
  createWorkflowStdout,
  escapeData,
  escapeProperty,
  toAnnotationCommand,
  toLogLines,
  toMaskCommands,
  toOutputBlock,
  toOutputFile,
} from '../../src/action/workflow-commands.ts'
import { mdCode, mdText } from '../../src/util/markdown.ts'
import { parseOutputFile } from './helpers.ts'
import {
  parseGithubOutput,
  parseRunnerCommand,
  runnerLines,
  unescapeData,
  unescapeProperty,
} from './runner-reference.ts'

test('annotations escape %, CR and LF in data, and also : and , in properties', () => {
  assert.equal(escapeData('100% done\r\nnext'), '100%25 done%0D%0Anext')
  assert.equal(escapeProperty('a:b,c%'), 'a%3Ab%2Cc%25')
  assert.equal(
    toAnnotationCommand({ level: 'error', title: 'x: y, z', file: 'a,b.json', message: 'line 1\nline 2' }),
    '::error file=a%2Cb.json,title=x%3A y%2C z::line 1%0Aline 2',
  )
  assert.equal(toAnnotationCommand({ level: 'warning', message: 'plain' }), '::warning::plain')
})

test('GITHUB_OUTPUT blocks are multi-line safe, deterministic, and never end early', () => {
  const value = 'line 1\nline 2'
  assert.equal(toOutputBlock('digests', value), toOutputBlock('digests', value))
  assert.deepEqual(parseOutputFile(toOutputBlock('digests', value)), { digests: value })
  // a value that contains the delimiter the first choice would use
  const first = toOutputBlock('x', 'v').split('\n')[0]!.split('<<')[1]!
  const tricky = `a\n${first}\nb`
  const block = toOutputBlock('x', tricky)
  assert.deepEqual(parseOutputFile(block), { x: tricky })
  assert.deepEqual(parseOutputFile(toOutputBlock('empty', '')), { empty: '' })
  assert.throws(() => toOutputBlock('bad name', 'v'))
})

test('inputs: runner variable names, defaults, booleans, PEM keys keep their line breaks', () => {
  assert.equal(inputVariable('working-directory'), 'INPUT_WORKING-DIRECTORY')
  const defaults = readInputs({})
  assert.equal(defaults.command, 'run')
  assert.equal(defaults.sign, 'auto')
  assert.equal(defaults.releaseAssets, true)
  const pem = '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n'
  const inputs = readInputs({ INPUT_KEY: pem, INPUT_STEPS: 'sbom, scan\npolicy', INPUT_CHECK: 'True' })
  assert.equal(inputs.key, pem)
  assert.deepEqual(inputs.steps, ['sbom', 'scan', 'policy'])
  assert.equal(inputs.check, true)
  assert.throws(() => readInputs({ INPUT_CHECK: 'yes' }), { code: 'ACTION_INPUT_INVALID' })
  assert.throws(() => readInputs({ INPUT_COMMAND: 'deploy' }), { code: 'ACTION_INPUT_INVALID' })
})

// hostile strings: forged commands (current and legacy syntax), escapes that would unescape twice,
// property separators, every way a runner or viewer breaks a line
const HOSTILE = [
  '\n::error::forged',
  '\r::error::forged',
  '\r\n::add-mask::x',
  'a%0A::error::x',
  '%250A%0D%25%3A%2C',
  'x, y: z',
  'file=evil,title=forged',
  '::stop-commands::tok',
  '  ::set-output name=x::y',
  '##[error]legacy',
  'x ##[add-mask]y',
  'a\u2028::error::b\u2029::warning::c',
  'nul\u0000byte',
  '\u0085::error::nel',
  '::',
  '%',
]

test('property and data escaping round-trip through the runner unescaping, and never split', () => {
  for (const v of HOSTILE) {
    const p = escapeProperty(v)
    assert.equal(unescapeProperty(p), v, JSON.stringify(v))
    assert.doesNotMatch(p, /[\r\n:,]/)
    const d = escapeData(v)
    assert.equal(unescapeData(d), v, JSON.stringify(v))
    assert.doesNotMatch(d, /[\r\n]/)
  }
})

test('an annotation with hostile title, file and message is one command with exactly those values', () => {
  for (const v of HOSTILE) {
    const line = toAnnotationCommand({ level: 'warning', title: `t ${v}`, file: `f${v}`, message: `m ${v}` })
    assert.equal(runnerLines(line).length, 1, JSON.stringify(v))
    const cmd = parseRunnerCommand(line)
    assert.deepEqual(cmd, {
      name: 'warning',
      properties: { file: `f${v}`, title: `t ${v}` },
      data: `m ${v}`,
      legacy: false,
    })
  }
  // credentials never reach an annotation
  const redacted = toAnnotationCommand({
    level: 'error',
    title: 'https://u:tok@h',
    message: 'https://u:tok@h/x',
  })
  assert.ok(!redacted.includes('tok'), redacted)
})

test('log text never becomes a command: every line the runner sees is plain', () => {
  const text = HOSTILE.join('\n')
  const lines = toLogLines(text)
  for (const l of lines) {
    assert.equal(parseRunnerCommand(l), null, JSON.stringify(l))
    assert.equal(runnerLines(l).length, 1)
    assert.doesNotMatch(l, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/)
  }
  // what the text said stays readable
  assert.ok(lines.includes('%3A%3Aerror::forged'))
  assert.ok(lines.includes('  %3A%3Aset-output name=x::y'))
  assert.ok(lines.includes('## [error]legacy'))
  assert.deepEqual(toLogLines('plain line'), ['plain line'])
  assert.deepEqual(toLogLines('GET https://u:tok@h/'), ['GET https://***@h/'])
  // the stdout writer: text, groups, annotations and masks, each line as the runner reads it
  let out = ''
  const w = createWorkflowStdout((t) => {
    out += t
  })
  w.mask(['s3cret-value'])
  w.group('detbuild ::error::x\n')
  w.text(text)
  w.annotate({ level: 'error', message: text })
  w.endGroup()
  const commands = runnerLines(out)
    .map(parseRunnerCommand)
    .filter((c) => c !== null)
  assert.deepEqual(
    commands.map((c) => c.name),
    ['add-mask', 'group', 'error', 'endgroup'],
  )
  assert.equal(commands[0]!.data, 's3cret-value')
  assert.equal(commands[1]!.data, 'detbuild ::error::x\n')
  assert.equal(commands[2]!.data, text)
})

test('add-mask: each line of a multi-line secret, short values and PEM armour left out, deterministic', () => {
  const pem = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\nByqGSM49AgEG\n-----END PRIVATE KEY-----\n'
  const lines = toMaskCommands([pem, 'abc', 'pa%ss\nword', 'pa%ss'])
  assert.deepEqual(
    lines.map((l) => parseRunnerCommand(l)!.data),
    ['ByqGSM49AgEG', 'MIGHAgEAMBMG', 'pa%ss', 'word'],
  )
  assert.ok(lines.every((l) => l.startsWith('::add-mask::')))
  assert.deepEqual(toMaskCommands([pem, 'pa%ss']), toMaskCommands(['pa%ss', pem]))
})

test('GITHUB_OUTPUT: no value forges a key, whatever it holds; the runner reads back exactly the values', () => {
  const outputs: Record<string, string> = { digests: 'abc  x.tgz\ndef  y.tgz' }
  for (const [i, v] of HOSTILE.entries()) outputs[`v${i}`] = v
  // a value holding the delimiter of its own first choice, and of the other values
  const firstDelimiter = (v: string) => toOutputBlock('x', v).split('\n')[0]!.split('<<')[1]!
  outputs.evil = `a\n${firstDelimiter('x')}\nforged=1\n${firstDelimiter('')}\nforged<<EOF\nx\nEOF`
  outputs.self = firstDelimiter('self')
  outputs.crlf = 'line\r\nforged=2\r'
  const text = toOutputFile(outputs)
  const parsed = parseGithubOutput(text)
  assert.deepEqual(parsed, outputs)
  // a Windows runner also ends lines at \r\n: the same keys, no block ends early
  const windows = parseGithubOutput(text, { crlf: true })
  assert.deepEqual(Object.keys(windows).sort(), Object.keys(outputs).sort())
  assert.equal(windows.crlf, 'line\nforged=2')
  assert.equal(toOutputFile(outputs), text, 'deterministic')
  assert.ok(!toOutputFile({ url: 'https://u:tok@h' }).includes('tok'))
  assert.throws(() => toOutputBlock('a<<b', 'v'), { code: 'ACTION_OUTPUT_NAME_INVALID' })
  assert.throws(() => toOutputBlock('a=b', 'v'), { code: 'ACTION_OUTPUT_NAME_INVALID' })
})

test('markdown: untrusted text shows as text (no HTML, link, image, emphasis, table cell, math, emoji)', () => {
  const evil =
    '<img src=x onerror=alert(1)> [click](https://evil.test) ![i](x) **b** _i_ ~s~ | col $x$ :white_check_mark: `c` \\| a\nb'
  const t = mdText(evil)
  assert.doesNotMatch(t, /<|>|\n/)
  assert.doesNotMatch(t, /(^|[^\\])[[\]|*_~$`]/)
  assert.ok(t.includes(':\u200bwhite\\_check\\_mark:'))
  assert.ok(t.includes('&lt;img'))
  // a code span holds anything, backticks included, and never leaves its table cell
  assert.equal(mdCode('a`b'), '``a`b``')
  assert.equal(mdCode('`x`'), '`` `x` ``')
  assert.equal(mdCode('a|b\nc'), '`a\\|b c`')
  assert.equal(mdCode(''), '` `')
})

test('the credentials the Action reads: PEM key, passphrases, URL inputs and URL variables', () => {
  const secrets = toActionSecrets({
    INPUT_KEY: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
    'INPUT_KEY-PASSWORD': 'pass phrase',
    'INPUT_OSV-URL': 'https://osvuser:osv-token@osv.example/?token=qtok',
    'INPUT_REKOR-URL': 'https://rekor.example/',
    DETBUILD_KEY_PASSWORD: 'env-pass',
    npm_config_registry: 'https://npm:reg-token@npm.example/',
    HTTPS_PROXY: 'http://proxyuser:proxy-pass@proxy:3128',
    UNRELATED: 'https://not:read@x/',
  })
  for (const s of ['pass phrase', 'osv-token', 'osvuser', 'qtok', 'env-pass', 'reg-token', 'proxy-pass'])
    assert.ok(secrets.includes(s), s)
  assert.ok(secrets.some((s) => s.includes('AAAA')))
  assert.ok(!secrets.includes('read'))
  // a path to a key file is not a secret
  assert.deepEqual(toActionSecrets({ INPUT_KEY: 'keys/signing.key' }), [])
})
