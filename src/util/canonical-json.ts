import { compareCodePoint } from './sort.ts'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

function normalize(value: unknown): Json | undefined {
  if (value === null) return null
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot encode ${value} as JSON`)
      return value
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined
    case 'bigint':
      throw new TypeError('cannot encode a bigint as JSON')
    case 'object': {
      const withToJson = value as { toJSON?: () => unknown }
      if (typeof withToJson.toJSON === 'function') return normalize(withToJson.toJSON())
      if (Array.isArray(value)) return value.map((v) => normalize(v) ?? null)
      const out: { [key: string]: Json } = {}
      for (const key of Object.keys(value).sort(compareCodePoint)) {
        const v = normalize((value as Record<string, unknown>)[key])
        if (v !== undefined) out[key] = v
      }
      return out
    }
  }
}

/** Canonical bytes for hashing and signing: sorted keys, no insignificant whitespace. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value))
}

/** JSON for people and for files: sorted keys, 2-space indent, final newline. */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(normalize(value), null, 2)}\n`
}
