/**
 * Pure: ignore entries from `detbuild.ignore.json` / `.yaml` and osv-scanner's `osv-scanner.toml`
 * (`[[IgnoredVulns]]`), and their application to findings. An entry applies while `now` is before its
 * `ignoreUntil` (a date means midnight UTC, as osv-scanner reads it); an expired entry stops applying
 * and is reported.
 */
import { parse as parseToml } from 'smol-toml'
import { InputError } from '../errors.ts'
import { MAX_INPUT_DEPTH, parseJson, parseYamlCapped } from '../util/json-parse.ts'
import { parseYamlStrict } from '../util/yaml-parse.ts'
import type { ExpiredSuppression, Finding, Suppression } from './types.ts'

export interface IgnoreEntry {
  id: string
  reason: string
  /** `YYYY-MM-DD` or an RFC 3339 timestamp; null: no expiry (only osv-scanner.toml allows it) */
  until: string | null
  /** limit to one npm package name */
  package: string | null
  source: Suppression['source']
  file: string
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/

function toUntil(value: unknown, file: string, where: string): string | null {
  if (value === undefined || value === null) return null
  if (value instanceof Date) {
    // smol-toml's TomlDate prints a date-only value as YYYY-MM-DD
    const s = value.toISOString()
    if (!DATE_RE.test(s) || Number.isNaN(Date.parse(s))) fail(file, `${where}: invalid ignoreUntil`)
    return s
  }
  if (typeof value !== 'string' || !DATE_RE.test(value) || Number.isNaN(Date.parse(value))) {
    fail(file, `${where}: "ignoreUntil" must be a date (YYYY-MM-DD) or an RFC 3339 timestamp`)
  }
  return value as string
}

function fail(file: string, why: string): never {
  throw new InputError('SCAN_IGNORE_FILE_INVALID', why, { file })
}

/** Parses detbuild's own ignore file (JSON or YAML by extension). */
export function toDetbuildIgnore(text: string, file: string): IgnoreEntry[] {
  let raw: unknown
  if (/\.ya?ml$/i.test(file)) {
    try {
      // aliases and depth capped: a "billion laughs" ignore file is bad input, not a crash
      raw = parseYamlCapped(text, file, parseYamlStrict, 'SCAN_IGNORE_FILE_INVALID')
    } catch (e) {
      if (e instanceof InputError) throw e
      fail(file, `invalid YAML: ${(e as Error).message.split('\n')[0]}`)
    }
  } else raw = parseJson(text, file, 'SCAN_IGNORE_FILE_INVALID')
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(file, 'expected an object with "ignore"')
  const list = (raw as { ignore?: unknown }).ignore
  if (!Array.isArray(list)) fail(file, '"ignore" must be a list')
  return list.map((item, i) => {
    const where = `ignore[${i}]`
    if (typeof item !== 'object' || item === null) fail(file, `${where}: expected an object`)
    const e = item as Record<string, unknown>
    if (typeof e.id !== 'string' || e.id === '') fail(file, `${where}: "id" is required`)
    if (typeof e.reason !== 'string' || e.reason.trim() === '') fail(file, `${where}: "reason" is required`)
    if (e.ignoreUntil === undefined) fail(file, `${where}: "ignoreUntil" is required`)
    if (e.package !== undefined && typeof e.package !== 'string')
      fail(file, `${where}: "package" must be a string`)
    return {
      id: e.id as string,
      reason: e.reason as string,
      until: toUntil(e.ignoreUntil, file, where),
      package: (e.package as string | undefined) ?? null,
      source: 'detbuild' as const,
      file,
    }
  })
}

/** Parses the `[[IgnoredVulns]]` tables of an osv-scanner.toml. */
export function toOsvScannerIgnore(text: string, file: string): IgnoreEntry[] {
  let raw: Record<string, unknown>
  try {
    raw = parseToml(text, { maxDepth: MAX_INPUT_DEPTH }) as Record<string, unknown>
  } catch (e) {
    fail(file, `invalid TOML: ${(e as Error).message.split('\n')[0]}`)
  }
  const list = raw.IgnoredVulns ?? []
  if (!Array.isArray(list)) fail(file, '"IgnoredVulns" must be an array of tables')
  return list.map((item, i) => {
    const where = `IgnoredVulns[${i}]`
    const e = item as Record<string, unknown>
    if (typeof e.id !== 'string' || e.id === '') fail(file, `${where}: "id" is required`)
    return {
      id: e.id as string,
      reason: typeof e.reason === 'string' ? e.reason : '',
      until: toUntil(e.ignoreUntil, file, where),
      package: null,
      source: 'osv-scanner.toml' as const,
      file,
    }
  })
}

export interface SuppressionResult {
  findings: Finding[]
  expired: ExpiredSuppression[]
}

/** Marks findings covered by an active entry (by id or alias); collects expired entries that matched. */
export function applySuppressions(findings: Finding[], entries: IgnoreEntry[], now: Date): SuppressionResult {
  const expired = new Map<string, ExpiredSuppression>()
  const out = findings.map((f) => {
    const ids = new Set([f.id, ...f.aliases])
    let applied: Suppression | null = null
    for (const e of entries) {
      if (!ids.has(e.id)) continue
      if (e.package !== null && e.package !== f.name) continue
      if (e.until !== null && now.getTime() >= Date.parse(e.until)) {
        expired.set(`${e.source}\u0000${e.id}\u0000${e.until}`, {
          id: e.id,
          until: e.until,
          source: e.source,
        })
        continue
      }
      applied ??= { reason: e.reason, until: e.until, source: e.source }
    }
    return applied ? { ...f, suppressed: applied } : f
  })
  return {
    findings: out,
    expired: [...expired.values()].sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : a.source < b.source ? -1 : a.source > b.source ? 1 : 0,
    ),
  }
}
