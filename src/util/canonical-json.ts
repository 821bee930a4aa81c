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

/** Canonical bytes for hashing and signing: sorted keys, no insignificant whitespace. */
export function canonicalJson(value: unknown): string {
  return write(value, '', '', false) as string
}

/** JSON for people and for files: sorted keys, 2-space indent, final newline. */
export function stableJson(value: unknown): string {
  return `${write(value, '  ', '', false)}\n`
}
