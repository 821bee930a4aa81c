/**
 * Reproducibility comparison, pure: which outputs of two builds differ, and inside archives which
 * entries differ by metadata or bytes, with short unified diffs for text.
 */
import { createHash } from 'node:crypto'
import { compareCodePoint } from '../util/sort.ts'
import { type ArchiveEntry, archiveKindOf, readArchive } from './archive.ts'

export interface EntryDifference {
  path: string
  change: 'only-in-first' | 'only-in-second' | 'metadata' | 'bytes'
  /** metadata fields that differ, e.g. mode, type, linkpath */
  fields?: Array<{ field: string; first: string; second: string }>
  sha256?: { first: string; second: string }
  diff?: string
}

export interface OutputComparison {
  name: string
  status: 'identical' | 'differs' | 'only-in-first' | 'only-in-second'
  size?: { first: number; second: number }
  sha256?: { first: string; second: string }
  entries?: EntryDifference[]
  diff?: string
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Text if it decodes as UTF-8 without NUL bytes. */
export function asText(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null
  const text = Buffer.from(bytes).toString('utf8')
  return text.includes('\uFFFD') ? null : text
}

/**
 * A short unified diff (line based, LCS) of two texts: `context` lines around changes, at most
 * `maxLines` lines of output. Large inputs fall back to the first differing line.
 */
export function unifiedDiff(
  a: string,
  b: string,
  options: { context?: number; maxLines?: number; labels?: [string, string] } = {},
): string {
  const context = options.context ?? 2
  const maxLines = options.maxLines ?? 40
  const [la, lb] = options.labels ?? ['first', 'second']
  const x = a.split('\n')
  const y = b.split('\n')
  const header = [`--- ${la}`, `+++ ${lb}`]
  if (x.length * y.length > 4_000_000) {
    let i = 0
    while (i < x.length && i < y.length && x[i] === y[i]) i++
    return [
      ...header,
      `@@ -${i + 1} +${i + 1} @@ (large file: first difference only)`,
      `-${x[i] ?? ''}`,
      `+${y[i] ?? ''}`,
    ].join('\n')
  }
  // LCS table from the end, then walk forward
  const n = x.length
  const m = y.length
  const dp: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1))
  for (let i = n - 1; i >= 0; i--) {
    const row = dp[i] as Uint32Array
    const next = dp[i + 1] as Uint32Array
    for (let j = m - 1; j >= 0; j--)
      row[j] = x[i] === y[j] ? (next[j + 1] as number) + 1 : Math.max(next[j] as number, row[j + 1] as number)
  }
  type Op = { t: ' ' | '-' | '+'; s: string; ai: number; bi: number }
  const ops: Op[] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ t: ' ', s: x[i++] as string, ai: i, bi: ++j })
    else if (j < m && (i >= n || (dp[i] as Uint32Array)[j + 1]! >= (dp[i + 1] as Uint32Array)[j]!))
      ops.push({ t: '+', s: y[j++] as string, ai: i, bi: j })
    else ops.push({ t: '-', s: x[i++] as string, ai: i, bi: j })
  }
  const out = [...header]
  let k = 0
  while (k < ops.length) {
    if (ops[k]?.t === ' ') {
      k++
      continue
    }
    const start = Math.max(0, k - context)
    let end = k
    while (end < ops.length) {
      if (ops[end]?.t !== ' ') {
        end++
        continue
      }
      let run = 0
      while (end + run < ops.length && ops[end + run]?.t === ' ') run++
      if (run > context * 2 || end + run >= ops.length) {
        end = Math.min(ops.length, end + context)
        break
      }
      end += run
    }
    const first = ops[start] as Op
    out.push(`@@ -${first.t === '+' ? first.ai : first.ai} +${first.t === '-' ? first.bi : first.bi} @@`)
    for (let q = start; q < end; q++) out.push(`${ops[q]?.t}${ops[q]?.s}`)
    k = end
  }
  if (out.length > maxLines)
    return [...out.slice(0, maxLines), `… (${out.length - maxLines} more lines)`].join('\n')
  return out.join('\n')
}

function entryMap(entries: readonly ArchiveEntry[]): Map<string, ArchiveEntry> {
  return new Map(entries.map((e) => [e.path, e]))
}

/** Compares two archives' members. */
export function compareEntries(
  first: readonly ArchiveEntry[],
  second: readonly ArchiveEntry[],
): EntryDifference[] {
  const a = entryMap(first)
  const b = entryMap(second)
  const names = [...new Set([...a.keys(), ...b.keys()])].sort(compareCodePoint)
  const out: EntryDifference[] = []
  for (const name of names) {
    const ea = a.get(name)
    const eb = b.get(name)
    if (!eb) {
      out.push({ path: name, change: 'only-in-first' })
      continue
    }
    if (!ea) {
      out.push({ path: name, change: 'only-in-second' })
      continue
    }
    const fields: Array<{ field: string; first: string; second: string }> = []
    const meta: Array<[string, (e: ArchiveEntry) => string]> = [
      ['type', (e) => e.type],
      ['mode', (e) => e.mode.toString(8).padStart(4, '0')],
      ['mtime', (e) => String(e.mtime)],
      ['uid', (e) => String(e.uid)],
      ['gid', (e) => String(e.gid)],
      ['uname', (e) => e.uname],
      ['gname', (e) => e.gname],
      ['linkpath', (e) => e.linkpath],
    ]
    for (const [field, get] of meta)
      if (get(ea) !== get(eb)) fields.push({ field, first: get(ea), second: get(eb) })
    if (!ea.data.equals(eb.data)) {
      const ta = asText(ea.data)
      const tb = asText(eb.data)
      out.push({
        path: name,
        change: 'bytes',
        ...(fields.length ? { fields } : {}),
        sha256: { first: sha(ea.data), second: sha(eb.data) },
        ...(ta !== null && tb !== null
          ? { diff: unifiedDiff(ta, tb, { labels: [`first/${name}`, `second/${name}`] }) }
          : {}),
      })
    } else if (fields.length) out.push({ path: name, change: 'metadata', fields })
  }
  return out
}

/** Compares every output of two builds by name. */
export async function compareOutputs(
  first: ReadonlyMap<string, Uint8Array>,
  second: ReadonlyMap<string, Uint8Array>,
): Promise<OutputComparison[]> {
  const names = [...new Set([...first.keys(), ...second.keys()])].sort(compareCodePoint)
  const out: OutputComparison[] = []
  for (const name of names) {
    const a = first.get(name)
    const b = second.get(name)
    if (!b) {
      out.push({ name, status: 'only-in-first' })
      continue
    }
    if (!a) {
      out.push({ name, status: 'only-in-second' })
      continue
    }
    if (Buffer.from(a).equals(Buffer.from(b))) {
      out.push({ name, status: 'identical', sha256: { first: sha(a), second: sha(b) } })
      continue
    }
    const result: OutputComparison = {
      name,
      status: 'differs',
      size: { first: a.byteLength, second: b.byteLength },
      sha256: { first: sha(a), second: sha(b) },
    }
    const kind = archiveKindOf(name)
    if (kind) {
      try {
        result.entries = compareEntries(await readArchive(kind, a, name), await readArchive(kind, b, name))
      } catch {
        // unreadable archive: report it as bytes only
      }
    } else {
      const ta = asText(a)
      const tb = asText(b)
      if (ta !== null && tb !== null)
        result.diff = unifiedDiff(ta, tb, { labels: [`first/${name}`, `second/${name}`] })
    }
    out.push(result)
  }
  return out
}

export interface Variation {
  name: string
  applied: boolean
  first: string
  second: string
  note?: string
}

export interface ReproReport {
  schemaVersion: 1
  reproducible: boolean
  variations: Variation[]
  outputs: OutputComparison[]
}

/** `<out>/repro-report.md`. */
export function toReportMarkdown(report: ReproReport): string {
  const lines = [
    '# detbuild reproducibility report',
    '',
    report.reproducible
      ? '**Reproducible**: both builds produced byte-identical outputs.'
      : '**Not reproducible**: the two builds produced different outputs.',
    '',
    '## Variations between the two builds',
    '',
    '| variation | applied | first build | second build |',
    '| --- | --- | --- | --- |',
    ...report.variations.map(
      (v) =>
        `| ${v.name} | ${v.applied ? 'yes' : `skipped${v.note ? `: ${v.note}` : ''}`} | ${v.first} | ${v.second} |`,
    ),
    '',
    '## Outputs',
    '',
  ]
  for (const o of report.outputs) {
    lines.push(`### ${o.name}: ${o.status}`, '')
    if (o.sha256 && o.status === 'differs')
      lines.push(`- sha256 first: \`${o.sha256.first}\``, `- sha256 second: \`${o.sha256.second}\``)
    if (o.size && o.status === 'differs') lines.push(`- size: ${o.size.first} vs ${o.size.second} bytes`)
    for (const e of o.entries ?? []) {
      const what =
        e.change === 'metadata' || (e.change === 'bytes' && e.fields)
          ? ` (${(e.fields ?? []).map((f) => `${f.field}: ${f.first} → ${f.second}`).join(', ')})`
          : ''
      lines.push(`- \`${e.path}\`: ${e.change}${what}`)
      if (e.diff) lines.push('', '```diff', e.diff, '```', '')
    }
    if (o.diff) lines.push('', '```diff', o.diff, '```')
    lines.push('')
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`
}
