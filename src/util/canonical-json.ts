import { InputError } from '../errors.ts'
import { compareCodePoint } from './sort.ts'

/**
 * Deeper than any input may be (inputs are capped at 512 levels when parsed), so only a value built
 * from an unchecked input reaches it: refused as bad input instead of overflowing the stack.
 */
const MAX_WRITE_DEPTH = 1000

/**
 * One pass over the value: keys sorted by code point at every depth, `toJSON` honoured, `undefined`,
 * functions and symbols dropped from objects (null in arrays), exactly as JSON.stringify would write the
 * sorted value. `indent` is '' for canonical bytes.
 */
function write(
  value: unknown,
  indent: string,
  depth: string,
  inArray: boolean,
  level = 0,
): string | undefined {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot encode ${value} as JSON`)
      return JSON.stringify(value)
    case 'bigint':
      throw new TypeError('cannot encode a bigint as JSON')
    case 'undefined':
    case 'function':
    case 'symbol':
      return inArray ? 'null' : undefined
  }
  const withToJson = value as { toJSON?: () => unknown }
  if (typeof withToJson.toJSON === 'function')
    return write(withToJson.toJSON(), indent, depth, inArray, level)
  if (level >= MAX_WRITE_DEPTH)
    throw new InputError('INPUT_TOO_DEEP', `a value nested deeper than ${MAX_WRITE_DEPTH} levels`, {
      details: { limit: MAX_WRITE_DEPTH },
    })
  const inner = indent ? `${depth}${indent}` : ''
  const open = indent ? `\n${inner}` : ''
  const sep = indent ? `,\n${inner}` : ','
  const close = indent ? `\n${depth}` : ''
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    const items = value.map((v) => write(v, indent, inner, true, level + 1) as string)
    return `[${open}${items.join(sep)}${close}]`
  }
  const record = value as Record<string, unknown>
  const parts: string[] = []
  const colon = indent ? ': ' : ':'
  for (const key of Object.keys(record).sort(compareCodePoint)) {
    const v = write(record[key], indent, inner, false, level + 1)
    if (v !== undefined) parts.push(`${JSON.stringify(key)}${colon}${v}`)
  }
  return parts.length === 0 ? '{}' : `{${open}${parts.join(sep)}${close}}`
}

/** An object key that V8 enumerates before every other key, in numeric order, whatever the insertion order. */
const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/

/** Thrown by {@link sortedCopy} when only the writer above can give the sorted order. */
const NEEDS_WRITER = Symbol('needs the writer')

/**
 * The value rebuilt with every object's keys inserted in code-point order, so that the engine's own
 * JSON.stringify (several times faster than building the text in JavaScript, which dominated large
 * outputs such as a 3,000-finding vulns.json) writes the same bytes as `write`: the same `toJSON`, the same
 * refusals (non-finite numbers, bigints, depth), `undefined`/functions/symbols left for JSON.stringify to drop
 * (objects) or write as null (arrays), exactly as `write` does. An object with an array-index key
 * ("0", "10") cannot keep a sorted insertion order in V8, so it throws NEEDS_WRITER and the caller uses
 * `write`. test/util/canonical-json.test.ts holds the two equal on generated values.
 */
function sortedCopy(value: unknown, level: number): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new TypeError(`cannot encode ${value} as JSON`)
    if (typeof value === 'bigint') throw new TypeError('cannot encode a bigint as JSON')
    return value
  }
  const withToJson = value as { toJSON?: () => unknown }
  if (typeof withToJson.toJSON === 'function') return sortedCopy(withToJson.toJSON(), level)
  if (level >= MAX_WRITE_DEPTH)
    throw new InputError('INPUT_TOO_DEEP', `a value nested deeper than ${MAX_WRITE_DEPTH} levels`, {
      details: { limit: MAX_WRITE_DEPTH },
    })
  if (Array.isArray(value)) return value.map((v) => sortedCopy(v, level + 1))
  const record = value as Record<string, unknown>
  // A plain object, not a prototype-less one: V8 keeps those in dictionary mode, and both building
  // and stringifying them measured about twice as slow. A "__proto__" key (JSON.parse makes it an own
  // property) is defined as an own property, so it stays a plain key and never sets the prototype.
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(record).sort(compareCodePoint)) {
    if (ARRAY_INDEX.test(key)) throw NEEDS_WRITER
    const v = sortedCopy(record[key], level + 1)
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true })
    else out[key] = v
  }
  return out
}

function writeFast(value: unknown, indent: string): string {
  let copy: unknown
  try {
    copy = sortedCopy(value, 0)
  } catch (e) {
    if (e !== NEEDS_WRITER) throw e
    return write(value, indent, '', false) as string
  }
  return JSON.stringify(copy, null, indent) as string
}

/** Canonical bytes for hashing and signing: sorted keys, no insignificant whitespace. */
export function canonicalJson(value: unknown): string {
  return writeFast(value, '')
}

/** JSON for people and for files: sorted keys, 2-space indent, final newline. */
export function stableJson(value: unknown): string {
  return `${writeFast(value, '  ')}\n`
}

/** The writer alone (the oracle of the fast path in tests). */
export function stableJsonByWriter(value: unknown, indent: '' | '  '): string {
  return write(value, indent, '', false) as string
}
