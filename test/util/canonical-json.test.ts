import assert from 'node:assert/strict'
import test from 'node:test'
import fc from 'fast-check'
import { canonicalJson, stableJson, stableJsonByWriter } from '../../src/util/canonical-json.ts'

const runs = Number(process.env.FUZZ_RUNS ?? 300)

/** JSON-ish values with what the fast path must treat like the writer: odd keys, undefined, dates, toJSON. */
const key = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '__proto__',
    'constructor',
    '0',
    '10',
    '9',
    '4294967295',
    '-1',
    '01',
    'a',
    'B',
    'é',
    '\u{1F600}',
  ),
)
const leaf = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.date({ noInvalidDate: true }),
  fc.constant({ toJSON: () => ({ z: 1, a: [2, undefined] }) }),
)
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 5 }),
  object: fc.array(fc.tuple(key, tie('node')), { maxLength: 6 }).map((pairs) => {
    const o: Record<string, unknown> = {}
    for (const [k, v] of pairs) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true })
    return o
  }),
})).node

test('the fast path writes the same bytes as the writer, indented and canonical', () => {
  fc.assert(
    fc.property(value, (v) => {
      assert.equal(stableJson(v), `${stableJsonByWriter(v, '  ')}\n`)
      assert.equal(canonicalJson(v), stableJsonByWriter(v, ''))
    }),
    { numRuns: runs, seed: Number(process.env.FUZZ_SEED ?? 42) },
  )
})

test('keys in code-point order at every depth, "__proto__" kept, integer-like keys sorted as strings', () => {
  const v = JSON.parse('{"b":1,"__proto__":{"y":1,"x":2},"10":true,"9":false,"a":[{"d":1,"c":2}]}') as unknown
  assert.equal(canonicalJson(v), '{"10":true,"9":false,"__proto__":{"x":2,"y":1},"a":[{"c":2,"d":1}],"b":1}')
  // without integer-like keys (the fast path): "__proto__" is still a plain key, never the prototype
  const p = JSON.parse('{"b":1,"__proto__":{"y":1,"x":2,"polluted":true},"a":0}') as unknown
  assert.equal(canonicalJson(p), '{"__proto__":{"polluted":true,"x":2,"y":1},"a":0,"b":1}')
  assert.equal(stableJson(p).split('\n')[1], '  "__proto__": {')
  assert.equal(({} as { polluted?: boolean }).polluted, undefined)
  assert.equal(
    canonicalJson({ z: 1, y: { b: undefined, a: [undefined, () => 1] } }),
    '{"y":{"a":[null,null]},"z":1}',
  )
  assert.throws(() => canonicalJson({ a: Number.NaN }), TypeError)
  assert.throws(() => canonicalJson([1n]), TypeError)
})
