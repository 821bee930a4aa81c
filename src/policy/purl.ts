/** Package URL helpers: loose parsing and pattern matching for deny lists and exceptions. */
import { PackageURL } from 'packageurl-js'

export interface PurlParts {
  type: string
  namespace?: string
  name: string
  version?: string
  qualifiers: Record<string, string>
  /** `pkg:type/namespace/name`, decoded, without version, qualifiers or subpath */
  key: string
}

export function parsePurl(purl: string): PurlParts | null {
  try {
    const p = PackageURL.fromString(purl)
    const qualifiers: Record<string, string> = {}
    for (const [k, v] of Object.entries(p.qualifiers ?? {})) if (typeof v === 'string') qualifiers[k] = v
    const out: PurlParts = {
      type: p.type,
      name: p.name,
      qualifiers,
      key: `pkg:${p.type}/${p.namespace ? `${p.namespace}/` : ''}${p.name}`,
    }
    if (p.namespace) out.namespace = p.namespace
    if (p.version) out.version = p.version
    return out
  } catch {
    return null
  }
}

interface PurlPattern {
  key: RegExp
  version?: RegExp
}

const patternCache = new Map<string, PurlPattern>()

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${body}$`)
}

/**
 * Compiles `pkg:npm/@scope/*`, `pkg:npm/event-stream@3.3.6` or `pkg:npm/%40scope/name`: `*` matches
 * anything; a version after the name must match exactly (globs allowed); qualifiers are ignored.
 */
function compile(pattern: string): PurlPattern {
  const cached = patternCache.get(pattern)
  if (cached) return cached
  let p = pattern.split('#')[0]!.split('?')[0]!
  const slash = p.lastIndexOf('/')
  const at = p.indexOf('@', slash + 1)
  let version: string | undefined
  if (at > slash && slash >= 0) {
    version = safeDecode(p.slice(at + 1))
    p = p.slice(0, at)
  }
  const compiled: PurlPattern = { key: globToRegExp(safeDecode(p)) }
  if (version) compiled.version = globToRegExp(version)
  patternCache.set(pattern, compiled)
  return compiled
}

/** Whether a component purl matches a pattern (see compile). */
export function matchesPurl(pattern: string, purl: string): boolean {
  const parts = parsePurl(purl)
  const compiled = compile(pattern)
  if (!parts) return compiled.key.test(purl)
  if (!compiled.key.test(parts.key)) return false
  if (compiled.version) return parts.version !== undefined && compiled.version.test(parts.version)
  return true
}
