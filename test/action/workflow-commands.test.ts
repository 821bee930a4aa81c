import assert from 'node:assert/strict'
import { test } from 'node:test'
import { inputVariable, readInputs } from '../../src/action/inputs.ts'
import {
  escapeData,
  escapeProperty,
  toAnnotationCommand,
  toOutputBlock,
} from '../../src/action/workflow-commands.ts'
import { parseOutputFile } from './helpers.ts'

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
