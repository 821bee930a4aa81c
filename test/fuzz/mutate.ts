/**
 * Structure-aware mutators for the fuzz suite (fast-check arbitraries). A JSON, YAML or TOML input is
 * parsed, changed at random paths (type swaps, deletions, huge strings, deep nesting, unicode, duplicated
 * keys, odd numbers), and written back as text; binary inputs (tar.gz, zip) get byte-level changes.
 * Every mutation carries a one-line description, so a failing property names its reproducer.
 */
import fc from 'fast-check'
import { stringify as tomlStringify } from 'smol-toml'
import YAML from 'yaml'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonPath = Array<string | number>

/** A mutated text input and what was done to it. */
export interface MutatedText {
  text: string
  description: string
}

/** A mutated binary input and what was done to it. */
export interface MutatedBytes {
  bytes: Buffer
  description: string
}

// ---- paths ----------------------------------------------------------------------------------------

/** Every path in `doc` (the root too), depth first, at most `limit` of them. */
export function jsonPaths(doc: Json, limit = 5000): JsonPath[] {
  const out: JsonPath[] = []
  const walk = (v: Json, p: JsonPath) => {
    if (out.length >= limit) return
    out.push(p)
    if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, [...p, i])
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k])
  }
  walk(doc, [])
  return out
}

export function getAt(doc: Json, p: JsonPath): Json | undefined {
  let v: Json | undefined = doc
  for (const k of p) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string | number, Json>)[k]
  }
  return v
}

/** `$.a[0].b` for messages. */
export function showPath(p: JsonPath): string {
  return `$${p.map((k) => (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`)).join('')}`
}

// ---- raw text placeholders --------------------------------------------------------------------------

/**
 * Some mutations cannot be held by a JS value (a duplicated key, `1e400`, 10 000 nested arrays that
 * JSON.stringify would recurse into): they sit in the document as a marker string and are spliced in
 * as raw text after serialisation.
 */
class RawText {
  private readonly items: string[] = []
  marker(raw: string): string {
    this.items.push(raw)
    return `__FUZZ_RAW_${this.items.length - 1}__`
  }
  splice(text: string): string {
    return text.replace(/"?__FUZZ_RAW_(\d+)__"?/g, (_m, i: string) => this.items[Number(i)] ?? '')
  }
}

// ---- value generators ------------------------------------------------------------------------------

const ODD_STRINGS = [
  '',
  ' ',
  '0',
  'null',
  'true',
  '-1',
  'NaN',
  '../../../../etc/passwd',
  '/etc/passwd',
  'C:\\Windows\\system32',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '🦄🏳️‍🌈',
  'é',
  '\u202e\u2066evil',
  '\ufeff',
  'ﷺ'.repeat(8),
  'line\nbreak',
  '%00%2e%2e%2f',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile string, not a template
  '${jndi:ldap://x}',
  '__proto__',
  'constructor',
  'pkg:npm/%40scope%2Fname@1.0.0',
  'pkg:npm/a@',
  '>=1.0.0 <0.0.0',
  '*',
  '1.0.0-' + 'a.'.repeat(200) + 'z',
  '9999-99-99',
  '2026-02-30T25:61:61Z',
  'sha256-AAAA',
  'sha512-',
  'https://',
  'file:///etc/passwd',
]

const odd: fc.Arbitrary<{ value: Json; label: string }> = fc.oneof(
  fc
    .constantFrom(...ODD_STRINGS)
    .map((s) => ({ value: s, label: `string ${JSON.stringify(s).slice(0, 40)}` })),
  fc
    .constantFrom(0, -0, -1, 1.5, 2 ** 53 + 1, -(2 ** 63), 1e308, Number.MIN_VALUE, 4294967296)
    .map((n) => ({ value: n, label: `number ${n}` })),
  fc.constantFrom(null, true, false).map((v) => ({ value: v, label: `${v}` })),
  fc.constant<{ value: Json; label: string }>({ value: [], label: 'empty array' }),
  fc.constant<{ value: Json; label: string }>({ value: {}, label: 'empty object' }),
  fc.constant({
    value: JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}') as Json,
    label: 'prototype keys',
  }),
  fc
    .string({ unit: 'binary', maxLength: 40 })
    .map((s) => ({ value: s, label: `unicode ${JSON.stringify(s)}` })),
  fc
    .string({ unit: 'grapheme', maxLength: 20 })
    .map((s) => ({ value: s, label: `graphemes ${JSON.stringify(s)}` })),
  fc.integer().map((n) => ({ value: n, label: `integer ${n}` })),
  fc.double().map((n) => ({ value: Number.isFinite(n) ? n : 0, label: `double ${n}` })),
)

/** A value of another JSON type than `v` (number ⇄ string, array ⇄ object, anything → null). */
function typeSwaps(v: Json | undefined): Array<{ value: Json; label: string }> {
  const out: Array<{ value: Json; label: string }> = [{ value: null, label: 'null' }]
  if (typeof v === 'number')
    out.push({ value: String(v), label: 'number→string' }, { value: [v], label: 'number→array' })
  else if (typeof v === 'string')
    out.push(
      { value: Number(v) || 1, label: 'string→number' },
      { value: [v], label: 'string→array' },
      { value: { value: v }, label: 'string→object' },
    )
  else if (typeof v === 'boolean') out.push({ value: v ? 1 : 'false', label: 'boolean→number/string' })
  else if (Array.isArray(v))
    out.push(
      { value: Object.fromEntries(v.map((x, i) => [String(i), x])), label: 'array→object' },
      { value: v.length, label: 'array→number' },
      { value: JSON.stringify(v).slice(0, 200), label: 'array→string' },
    )
  else if (v !== null && typeof v === 'object')
    out.push(
      { value: Object.values(v), label: 'object→array' },
      { value: Object.keys(v).join(','), label: 'object→string' },
      { value: 7, label: 'object→number' },
    )
  else out.push({ value: {}, label: 'null→object' }, { value: 'null', label: 'null→string' })
  return out
}

// ---- JSON mutations --------------------------------------------------------------------------------

/** One step of a mutation; `pick` chooses among the document's paths when it is applied. */
export type JsonStep =
  | { kind: 'swap'; pick: number; choice: number }
  | { kind: 'odd'; pick: number; value: Json; label: string }
  | { kind: 'delete'; pick: number }
  | { kind: 'huge-string'; pick: number; length: number; unit: string }
  | { kind: 'huge-array'; pick: number; length: number }
  | { kind: 'deep'; pick: number; depth: number; open: '[' | '{' }
  | { kind: 'duplicate-key'; pick: number; value: Json; label: string }
  | { kind: 'rename-key'; pick: number; key: string }
  | { kind: 'raw-number'; pick: number; raw: string }

const smallStep: fc.Arbitrary<JsonStep> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('swap' as const), pick: fc.nat(), choice: fc.nat() }),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.nat(), odd)
      .map(([pick, o]) => ({ kind: 'odd' as const, pick, value: o.value, label: o.label })),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.nat(), odd)
      .map(([pick, o]) => ({ kind: 'duplicate-key' as const, pick, value: o.value, label: o.label })),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rename-key' as const),
      pick: fc.nat(),
      key: fc.oneof(
        fc.constantFrom('', '__proto__', 'constructor', ' ', 'x'.repeat(5000)),
        fc.string({ maxLength: 12 }),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('raw-number' as const),
      pick: fc.nat(),
      raw: fc.constantFrom(
        '1e400',
        '-1e400',
        '-0',
        '123456789012345678901234567890',
        '0.0000000000000000000001',
        '1E+2',
        '5e-324',
      ),
    }),
  },
)

/** Size attacks (`scale` 1: up to 512 KiB strings, 20 000 items, 20 000 levels; YAML parsers get less). */
const bigStep = (scale: number): fc.Arbitrary<JsonStep> =>
  fc.oneof(
    fc.record({
      kind: fc.constant('huge-string' as const),
      pick: fc.nat(),
      length: fc.integer({ min: Math.floor((1 << 16) * scale), max: Math.floor((1 << 19) * scale) }),
      unit: fc.constantFrom('x', 'é', '🦄', '\\', '"', '\u0000'),
    }),
    fc.record({
      kind: fc.constant('huge-array' as const),
      pick: fc.nat(),
      length: fc.integer({ min: Math.floor(1000 * scale), max: Math.floor(20_000 * scale) }),
    }),
    fc.record({
      kind: fc.constant('deep' as const),
      pick: fc.nat(),
      depth: fc.integer({ min: 100, max: Math.floor(20_000 * scale) }),
      open: fc.constantFrom('[' as const, '{' as const),
    }),
  )

/** One to three small changes, and in one run of ten a size attack after them (at most one: it is slow). */
export const jsonSteps = (scale = 1): fc.Arbitrary<JsonStep[]> =>
  fc
    .tuple(
      fc.array(smallStep, { minLength: 0, maxLength: 3 }),
      fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: bigStep(scale) }),
    )
    .filter(([small, big]) => small.length > 0 || big !== null)
    .map(([small, big]) => (big ? [...small, big] : small))

function setAt(doc: Json, p: JsonPath, value: Json): Json {
  if (p.length === 0) return value
  const parent = getAt(doc, p.slice(0, -1)) as Record<string | number, Json>
  parent[p[p.length - 1]!] = value
  return doc
}

function deleteAt(doc: Json, p: JsonPath): Json {
  if (p.length === 0) return null
  const parent = getAt(doc, p.slice(0, -1))
  const k = p[p.length - 1]!
  if (Array.isArray(parent)) parent.splice(Number(k), 1)
  else if (parent && typeof parent === 'object') delete (parent as Record<string, Json>)[k as string]
  return doc
}

/** Applies one step to `doc` (in place where it can); returns the new root and a description. */
function applyStep(doc: Json, step: JsonStep, raw: RawText): { doc: Json; what: string } {
  const paths = jsonPaths(doc)
  const p = paths[step.pick % paths.length]!
  const at = showPath(p)
  const current = getAt(doc, p)
  switch (step.kind) {
    case 'swap': {
      const swaps = typeSwaps(current)
      const s = swaps[step.choice % swaps.length]!
      return { doc: setAt(doc, p, s.value), what: `${at}: ${s.label}` }
    }
    case 'odd':
      return { doc: setAt(doc, p, structuredClone(step.value)), what: `${at} = ${step.label}` }
    case 'delete':
      return { doc: deleteAt(doc, p), what: `${at}: deleted` }
    case 'huge-string':
      return {
        doc: setAt(doc, p, step.unit.repeat(Math.ceil(step.length / step.unit.length))),
        what: `${at} = ${JSON.stringify(step.unit)} × ${step.length}`,
      }
    case 'huge-array': {
      // many copies of a small value: a copy of a whole document each would only test the fuzzer's memory
      const item = current === undefined || JSON.stringify(current).length > 200 ? 1 : current
      return {
        // one shared value: serialised once per item, and nothing mutates it after this last step
        doc: setAt(doc, p, new Array<Json>(step.length).fill(item)),
        what: `${at} = [its value × ${step.length}]`,
      }
    }
    case 'deep': {
      const text =
        step.open === '['
          ? `${'['.repeat(step.depth)}${']'.repeat(step.depth)}`
          : `${'{"a":'.repeat(step.depth)}1${'}'.repeat(step.depth)}`
      return { doc: setAt(doc, p, raw.marker(text)), what: `${at} = ${step.open} nested ${step.depth} deep` }
    }
    case 'duplicate-key': {
      // the key of an object member at p, or any member of the object at p
      const parentPath = typeof p[p.length - 1] === 'string' ? p.slice(0, -1) : p
      const obj = getAt(doc, parentPath)
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || Object.keys(obj).length === 0)
        return { doc, what: `${at}: no object to duplicate a key in` }
      const key = parentPath === p ? Object.keys(obj)[0]! : (p[p.length - 1] as string)
      const marker = raw.marker(JSON.stringify(key))
      ;(obj as Record<string, Json>)[marker] = structuredClone(step.value)
      return { doc, what: `${showPath([...parentPath, key])}: duplicated key, second value ${step.label}` }
    }
    case 'rename-key': {
      const k = p[p.length - 1]
      if (typeof k !== 'string') return { doc, what: `${at}: not a key` }
      const parent = getAt(doc, p.slice(0, -1)) as Record<string, Json>
      const v = parent[k]!
      delete parent[k]
      parent[step.key] = v
      return { doc, what: `${at}: key renamed to ${JSON.stringify(step.key).slice(0, 40)}` }
    }
    case 'raw-number':
      return { doc: setAt(doc, p, raw.marker(step.raw)), what: `${at} = ${step.raw}` }
  }
}

/** Text-level changes on top of the structural ones. */
export type TextStep =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'bom' }
  | { kind: 'trailing'; text: string }
  | { kind: 'compact' }

export const textStep: fc.Arbitrary<TextStep> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'bom' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('trailing' as const),
      text: fc.constantFrom('\n}', ',', '\u0000', ' // comment', '{}', '\n---\n'),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'compact' as const }) },
)

function applyText(text: string, step: TextStep): { text: string; what: string } {
  switch (step.kind) {
    case 'none':
    case 'compact':
      return { text, what: '' }
    case 'truncate': {
      const at = step.at % Math.max(1, text.length)
      return { text: text.slice(0, at), what: `truncated at byte ${at}` }
    }
    case 'bom':
      return { text: `\ufeff${text}`, what: 'BOM prepended' }
    case 'trailing':
      return { text: text + step.text, what: `${JSON.stringify(step.text)} appended` }
  }
}

export interface JsonMutation {
  steps: JsonStep[]
  text: TextStep
}

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.record({ steps: jsonSteps(), text: textStep })

/** The same with smaller size attacks, for formats whose parsers are slow on them (YAML, TOML). */
export const documentMutation: fc.Arbitrary<JsonMutation> = fc.record({
  steps: jsonSteps(1 / 8),
  text: textStep,
})

type Serialize = (doc: Json, compact: boolean) => string

/** Mutates a parsed document and serialises it with `serialize` (JSON, YAML, TOML). */
export function mutateDocument(original: Json, m: JsonMutation, serialize: Serialize): MutatedText {
  const raw = new RawText()
  let doc = structuredClone(original)
  const what: string[] = []
  for (const s of m.steps) {
    const r = applyStep(doc, s, raw)
    doc = r.doc
    what.push(r.what)
  }
  let text: string
  try {
    text = raw.splice(serialize(doc, m.text.kind === 'compact'))
  } catch (e) {
    // a format that cannot hold the value (TOML has no null): the JSON text is a mutation too
    text = raw.splice(JSON.stringify(doc))
    what.push(`not representable (${(e as Error).message.split('\n')[0]}), written as JSON`)
  }
  const t = applyText(text, m.text)
  if (t.what) what.push(t.what)
  return { text: t.text, description: what.join('; ') }
}

export const toJsonText: Serialize = (doc, compact) =>
  compact ? JSON.stringify(doc) : `${JSON.stringify(doc, null, 2)}\n`

export const toYamlText: Serialize = (doc) => YAML.stringify(doc, { lineWidth: 0 })

export const toTomlText: Serialize = (doc) => tomlStringify(doc as Record<string, unknown>)

/** Mutates JSON text (parsed first). */
export function mutateJson(text: string, m: JsonMutation): MutatedText {
  return mutateDocument(JSON.parse(text) as Json, m, toJsonText)
}

// ---- YAML-only text mutations ------------------------------------------------------------------------

export type YamlExtra =
  | { kind: 'none' }
  | { kind: 'alias-bomb' }
  | { kind: 'tab-indent' }
  | { kind: 'tag'; tag: string }

export const yamlExtra: fc.Arbitrary<YamlExtra> = fc.oneof(
  { weight: 10, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'alias-bomb' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'tab-indent' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('tag' as const),
      tag: fc.constantFrom(
        '!!binary',
        '!!timestamp',
        '!!set',
        '!!omap',
        '!!js/function',
        '!<tag:yaml.org,2002:int>',
      ),
    }),
  },
)

/** YAML-specific changes: a billion-laughs alias bomb, tabs, unusual tags. */
export function mutateYamlText(text: string, extra: YamlExtra): MutatedText {
  switch (extra.kind) {
    case 'none':
      return { text, description: '' }
    case 'alias-bomb': {
      const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
      for (let i = 1; i < 9; i++) {
        const prev = String.fromCharCode(96 + i)
        const cur = String.fromCharCode(97 + i)
        lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`)
      }
      return { text: `${lines.join('\n')}\n${text}`, description: 'alias bomb prepended' }
    }
    case 'tab-indent':
      return { text: text.replace(/^ {2}/gm, '\t'), description: 'indentation as tabs' }
    case 'tag': {
      const i = text.indexOf(': ')
      return i < 0
        ? { text, description: '' }
        : {
            text: `${text.slice(0, i + 2)}${extra.tag} ${text.slice(i + 2)}`,
            description: `tag ${extra.tag}`,
          }
    }
  }
}

// ---- bytes ---------------------------------------------------------------------------------------------

export type ByteStep =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'zero'; at: number; length: number }
  | { kind: 'repeat'; at: number; length: number }

export const byteStep: fc.Arbitrary<ByteStep> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(),
      mask: fc.integer({ min: 1, max: 255 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('zero' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 1024 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('repeat' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 4096 }),
    }),
  },
)

export const byteMutation: fc.Arbitrary<ByteStep[]> = fc.array(byteStep, { minLength: 1, maxLength: 4 })

/** Applies byte-level changes to a copy of `input`. */
export function mutateBytes(input: Uint8Array, steps: readonly ByteStep[]): MutatedBytes {
  let b = Buffer.from(input)
  const what: string[] = []
  for (const s of steps) {
    const at = s.at % Math.max(1, b.length)
    switch (s.kind) {
      case 'flip':
        b[at] = (b[at] ?? 0) ^ s.mask
        what.push(`byte ${at} ^= 0x${s.mask.toString(16)}`)
        break
      case 'truncate':
        b = b.subarray(0, at)
        what.push(`truncated at ${at}`)
        break
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(s.bytes), b.subarray(at)])
        what.push(`${s.bytes.length} bytes inserted at ${at}`)
        break
      case 'zero':
        b = Buffer.from(b)
        b.fill(0, at, Math.min(b.length, at + s.length))
        what.push(`bytes ${at}..${at + s.length} zeroed`)
        break
      case 'repeat':
        b = Buffer.concat([b.subarray(0, at + s.length), b.subarray(at)])
        what.push(`bytes ${at}..${at + s.length} repeated`)
        break
    }
  }
  return { bytes: b, description: what.join('; ') }
}
