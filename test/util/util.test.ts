import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { canonicalJson, stableJson } from '../../src/util/canonical-json.ts'
import { writeFileAtomic } from '../../src/util/fs.ts'
import { firstJsonErrorOffset } from '../../src/util/json-locate.ts'
import { lineColumn, parseJson } from '../../src/util/json-parse.ts'
import { wantsColor } from '../../src/util/log.ts'
import { compareCodePoint } from '../../src/util/sort.ts'
import { tempDir } from '../helpers/paths.ts'

test('canonicalJson: sorted keys at every depth, array order kept, undefined dropped, toJSON used', () => {
  const value = { b: 1, a: { d: [3, 1, { z: 1, y: undefined, x: 2 }], c: new Date(0) } }
  assert.equal(canonicalJson(value), '{"a":{"c":"1970-01-01T00:00:00.000Z","d":[3,1,{"x":2,"z":1}]},"b":1}')
  assert.equal(stableJson({ b: 1, a: 2 }), '{\n  "a": 2,\n  "b": 1\n}\n')
  assert.throws(() => canonicalJson({ n: Number.NaN }))
})

test('compareCodePoint orders by code unit, not by locale', () => {
  assert.deepEqual(['b', 'B', 'a', '_', 'A', 'é'].sort(compareCodePoint), ['A', 'B', '_', 'a', 'b', 'é'])
})

test('parseJson names the file, line and column', () => {
  assert.deepEqual(lineColumn('ab\ncd\nef', 4), { line: 2, column: 2 })
  assert.throws(
    () => parseJson('{\n  "a": 1,\n  "b": ]\n}', 'x.json'),
    (e: { code: string; file: string; message: string; exitCode: number }) =>
      e.code === 'INPUT_JSON_INVALID' &&
      e.file === 'x.json' &&
      /line 3, column 8/.test(e.message) &&
      e.exitCode === 2,
  )
  assert.throws(() => parseJson('   ', 'empty.json'), /the file is empty/)
  assert.throws(() => parseJson('{"a": 1', 'cut.json'), /line 1, column 8 \(unexpected end\)/)
  assert.throws(() => parseJson('[1,\n2,,3]', 'x.json'), /line 2, column 3/)
})

test('firstJsonErrorOffset agrees with JSON.parse on what is valid, and points at the first bad character', () => {
  const valid = ['0', '-1.5e3', '"a\\u00e9\\n"', '[]', '{}', '{"a":[1,{"b":null}],"c":true}', ' [ 1 , 2 ] ']
  for (const t of valid) assert.equal(firstJsonErrorOffset(t), undefined, t)
  const cases: Array<[string, number]> = [
    ['{"a": ]}', 6],
    ['[1,2,,3]', 5],
    ['{"a" 1}', 5],
    ['{"a": tru}', 9],
    ['"bad \\x"', 6],
    ['[1] 2', 4],
    ['{"a": 01}', 7],
    ['[', 1],
  ]
  for (const [t, at] of cases) {
    assert.throws(() => JSON.parse(t))
    assert.equal(firstJsonErrorOffset(t), at, t)
  }
})

test('writeFileAtomic replaces a file whole and leaves no temporary file, also when it fails', async () => {
  const dir = tempDir()
  const file = path.join(dir, 'out', 'result.json')
  await writeFileAtomic(file, 'one')
  await writeFileAtomic(file, 'two')
  assert.equal(readFileSync(file, 'utf8'), 'two')
  assert.deepEqual(readdirSync(path.dirname(file)), ['result.json'])
  // a folder where the file should go: the rename fails, nothing is left behind
  const blocked = path.join(dir, 'blocked')
  mkdirSync(path.join(blocked, 'target'), { recursive: true })
  writeFileSync(path.join(blocked, 'target', 'keep'), 'kept')
  await assert.rejects(writeFileAtomic(path.join(blocked, 'target'), 'new'))
  assert.deepEqual(readdirSync(blocked), ['target'])
  assert.equal(readFileSync(path.join(blocked, 'target', 'keep'), 'utf8'), 'kept')
})

test('colours: only on a TTY, never with NO_COLOR or TERM=dumb, FORCE_COLOR wins', () => {
  assert.equal(wantsColor({ isTTY: true }, {}), true)
  assert.equal(wantsColor({ isTTY: false }, {}), false)
  assert.equal(wantsColor({ isTTY: true }, { NO_COLOR: '1' }), false)
  assert.equal(wantsColor({ isTTY: true }, { TERM: 'dumb' }), false)
  assert.equal(wantsColor({ isTTY: false }, { FORCE_COLOR: '1' }), true)
})

test('stableJson and canonicalJson write exactly what JSON.stringify writes for the key-sorted value', () => {
  const sortDeep = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortDeep)
    if (v && typeof v === 'object' && !(v instanceof Date)) {
      const out: Record<string, unknown> = {}
      for (const k of Object.keys(v).sort()) out[k] = sortDeep((v as Record<string, unknown>)[k])
      return out
    }
    return v
  }
  let seed = 7
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  const gen = (depth: number): unknown => {
    const r = rand()
    if (depth > 4 || r < 0.3) {
      const leaves = [0, -1.5, 1e21, 'a"b\\c\n', 'é', true, false, null, undefined, '']
      return leaves[Math.floor(rand() * leaves.length)]
    }
    if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => gen(depth + 1))
    const o: Record<string, unknown> = {}
    for (let i = Math.floor(rand() * 5); i > 0; i--)
      o[`k${Math.floor(rand() * 30)}${rand() < 0.2 ? 'Z' : ''}`] = gen(depth + 1)
    return o
  }
  for (let i = 0; i < 300; i++) {
    const v = { root: gen(0), when: new Date(i * 1000) }
    assert.equal(stableJson(v), `${JSON.stringify(sortDeep(JSON.parse(JSON.stringify(v))), null, 2)}\n`)
    assert.equal(canonicalJson(v), JSON.stringify(sortDeep(JSON.parse(JSON.stringify(v)))))
  }
})

test('JSON and YAML readers never quote the input in an error (it may be a link to a secret)', async () => {
  const { parseJson, parseJsonText } = await import('../../src/util/json-parse.ts')
  const { parseYamlStrict } = await import('../../src/util/yaml-parse.ts')
  const secret = 'root:x:0:0:hunter2-secret:/root:/bin/bash\n'
  assert.throws(
    () => parseJson(secret, 'vulns.intoto.json', 'INPUT_JSON_INVALID'),
    (e: Error) =>
      !e.message.includes('root:x') && !e.message.includes('hunter2') && /line 1, column 1/.test(e.message),
  )
  assert.throws(
    () => parseJsonText(`{"a": ${secret}}`),
    (e: Error) =>
      e instanceof SyntaxError && !e.message.includes('root:x') && /line 1, column \d+/.test(e.message),
  )
  assert.throws(
    () => parseYamlStrict(`a: b\n c: [hunter2-secret\n`),
    (e: Error) => !e.message.includes('hunter2') && /line \d+, column \d+/.test(e.message),
  )
})
