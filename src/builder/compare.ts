/**
 * Reproducibility comparison, pure: which outputs of two builds differ, inside tar/zip archives which
 * entries were added, removed or changed (type, mode, link target, size, contents digest), and unified
 * diffs of text (jsdiff, standard hunk headers). Build outputs are hostile: file and entry names are shown
 * with their control characters escaped, very long (minified) lines are cut around the first difference,
 * and the whole report is bounded in size, with a marker where something was left out.
 */
import { createHash } from 'node:crypto'
import { structuredPatch } from 'diff'
import { showControls } from '../util/file-name.ts'
import { compareCodePoint } from '../util/sort.ts'
import type { ArchiveEntry } from '../util/tar.ts'
import { archiveKindOf, readArchive } from './archive.ts'

export interface EntryDifference {
  path: string
  change: 'only-in-first' | 'only-in-second' | 'metadata' | 'bytes'
  /** metadata fields that differ, e.g. type, mode, linkpath */
  fields?: Array<{ field: string; first: string; second: string }>
  size?: { first: number; second: number }
  sha256?: { first: string; second: string }
  diff?: string
  /** why no diff is shown for a text entry (the report's size limit) */
  diffOmitted?: string
}

export interface OutputComparison {
  name: string
  status: 'identical' | 'differs' | 'only-in-first' | 'only-in-second'
  size?: { first: number; second: number }
  sha256?: { first: string; second: string }
  entries?: EntryDifference[]
  /** differing entries not listed (the report's size limit) */
  entriesOmitted?: number
  /** why an archive's entries could not be compared */
  note?: string
  diff?: string
  diffOmitted?: string
}

/** Bounds on what a report holds: the build's outputs decide how much differs, not detbuild. */
export interface ReportLimits {
  /** lines of one diff */
  diffLines: number
  /** characters kept of one diff line (a minified line is cut around its first difference) */
  lineWidth: number
  /** characters of all diffs together */
  totalDiffChars: number
  /** differing entries listed per archive */
  entries: number
  /** edits jsdiff may find before a diff falls back to the first differing line */
  maxEditLength: number
  /**
   * lines × edits a diff may cost (Myers' algorithm takes time in proportion): large texts with many
   * differences fall back to the first differing line instead of taking minutes
   */
  diffWork: number
}

export const REPORT_LIMITS: ReportLimits = {
  diffLines: 120,
  lineWidth: 240,
  totalDiffChars: 256 * 1024,
  entries: 200,
  maxEditLength: 10_000,
  diffWork: 20_000_000,
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Text if it decodes as UTF-8 without NUL bytes. */
export function asText(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null
  const text = Buffer.from(bytes).toString('utf8')
  return text.includes('\uFFFD') ? null : text
}

/** Index of the first character where a and b differ (their common prefix length). */
function firstDifference(a: string, b: string): number {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return i
}

/** One diff line body cut to `width` characters around column `at`, with markers saying what was cut. */
function cutAround(text: string, at: number, width: number): string {
  if (text.length <= width) return text
  const start = Math.max(0, Math.min(at - Math.floor(width / 4), text.length - width))
  const end = Math.min(text.length, start + width)
  return `${start > 0 ? `…[${start} chars] ` : ''}${text.slice(start, end)}${end < text.length ? ` …[${text.length - end} chars]` : ''}`
}

/**
 * Cuts the long lines of a hunk: a removed line and the added line paired with it are cut around
 * their first difference (so a minified bundle shows where it changed); other long lines keep their start.
 */
function cutLongLines(lines: readonly string[], width: number): string[] {
  const out = [...lines]
  const cut = new Set<number>()
  let i = 0
  // a run of removed lines, then a run of added ones ("\ No newline at end of file" may sit in either)
  const run = (from: number, sign: string): number[] => {
    const at: number[] = []
    let j = from
    for (; j < out.length; j++) {
      const l = out[j] as string
      if (l.startsWith(sign)) at.push(j)
      else if (!l.startsWith('\\')) break
    }
    return at
  }
  while (i < out.length) {
    if (!out[i]?.startsWith('-')) {
      i++
      continue
    }
    const minus = run(i, '-')
    const plus = run((minus.at(-1) as number) + 1, '+')
    for (let k = 0; k < Math.min(minus.length, plus.length); k++) {
      const [m, p] = [minus[k] as number, plus[k] as number]
      const a = (out[m] as string).slice(1)
      const b = (out[p] as string).slice(1)
      if (a.length <= width && b.length <= width) continue
      const at = firstDifference(a, b)
      out[m] = `-${cutAround(a, at, width)}`
      out[p] = `+${cutAround(b, at, width)}`
      cut.add(m).add(p)
    }
    i = Math.max((minus.at(-1) as number) + 1, ((plus.at(-1) ?? 0) as number) + 1)
  }
  return out.map((l, n) =>
    !cut.has(n) && l.length > width + 1 && !l.startsWith('\\')
      ? `${l[0]}${cutAround(l.slice(1), 0, width)}`
      : l,
  )
}

function countLines(text: string): number {
  let n = 1
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++
  return n
}

/** A hunk header range as diff(1) and git write it: `start` alone for one line, `start-1,0` for none. */
function hunkRange(start: number, count: number): string {
  if (count === 1) return String(start)
  return `${count === 0 ? start - 1 : start},${count}`
}

/**
 * A unified diff of two texts (jsdiff; `@@ -start,count +start,count @@` hunk headers as diff(1) and
 * git write them), with `context` lines around changes, long lines cut around their first difference and
 * at most `limits.diffLines` lines. When the texts differ in too many places to diff, the first
 * differing line is shown instead.
 */
export function unifiedDiff(
  a: string,
  b: string,
  options: { context?: number; labels?: [string, string]; limits?: ReportLimits } = {},
): string {
  const limits = options.limits ?? REPORT_LIMITS
  const [la, lb] = options.labels ?? ['first', 'second']
  const header = [`--- ${la}`, `+++ ${lb}`]
  const lines = countLines(a) + countLines(b)
  const maxEditLength = Math.min(limits.maxEditLength, Math.floor(limits.diffWork / Math.max(1, lines)))
  const patch =
    maxEditLength < 1
      ? undefined
      : structuredPatch(la, lb, a, b, undefined, undefined, { context: options.context ?? 3, maxEditLength })
  const out = [...header]
  if (patch === undefined) {
    const x = a.split('\n')
    const y = b.split('\n')
    let i = 0
    while (i < x.length && i < y.length && x[i] === y[i]) i++
    out.push(
      `@@ -${i + 1} +${i + 1} @@ (too many differences to diff: the first differing line only)`,
      ...cutLongLines([`-${x[i] ?? ''}`, `+${y[i] ?? ''}`], limits.lineWidth),
    )
  } else
    for (const h of patch.hunks) {
      out.push(`@@ -${hunkRange(h.oldStart, h.oldLines)} +${hunkRange(h.newStart, h.newLines)} @@`)
      out.push(...cutLongLines(h.lines, limits.lineWidth))
    }
  if (out.length > limits.diffLines)
    return [...out.slice(0, limits.diffLines), `… (${out.length - limits.diffLines} more lines)`].join('\n')
  return out.join('\n')
}

/** Members by path; a path that occurs again (a hostile or odd archive) is kept as `path (#2)`, … */
function entryMap(entries: readonly ArchiveEntry[]): Map<string, ArchiveEntry> {
  const out = new Map<string, ArchiveEntry>()
  for (const e of entries) {
    let key = e.path
    for (let n = 2; out.has(key); n++) key = `${e.path} (#${n})`
    out.set(key, e)
  }
  return out
}

/** What is left of the report's diff budget; shared by every diff of one report. */
interface Budget {
  chars: number
}

function budgetedDiff(
  ta: string,
  tb: string,
  labels: [string, string],
  limits: ReportLimits,
  budget: Budget,
): { diff: string } | { diffOmitted: string } {
  if (budget.chars <= 0) return { diffOmitted: 'the report size limit was reached' }
  let diff = unifiedDiff(ta, tb, { labels, limits })
  if (diff.length > budget.chars)
    diff = `${diff.slice(0, budget.chars)}\n… (truncated: the report size limit was reached)`
  budget.chars -= diff.length
  return { diff }
}

/** Compares two archives' members: names only in one, then type, mode, link target, size and contents. */
export function compareEntries(
  first: readonly ArchiveEntry[],
  second: readonly ArchiveEntry[],
  limits: ReportLimits = REPORT_LIMITS,
  budget: Budget = { chars: limits.totalDiffChars },
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
        size: { first: ea.data.length, second: eb.data.length },
        sha256: { first: sha(ea.data), second: sha(eb.data) },
        ...(ta !== null && tb !== null
          ? budgetedDiff(ta, tb, [`first/${name}`, `second/${name}`], limits, budget)
          : {}),
      })
    } else if (fields.length) out.push({ path: name, change: 'metadata', fields })
  }
  return out
}

/** Compares every output of two builds by name; archives entry by entry. */
export async function compareOutputs(
  first: ReadonlyMap<string, Uint8Array>,
  second: ReadonlyMap<string, Uint8Array>,
  limits: ReportLimits = REPORT_LIMITS,
): Promise<OutputComparison[]> {
  const budget: Budget = { chars: limits.totalDiffChars }
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
      let entries: EntryDifference[] | null = null
      try {
        entries = compareEntries(
          await readArchive(kind, a, name),
          await readArchive(kind, b, name),
          limits,
          budget,
        )
      } catch (e) {
        result.note = `the entries could not be compared: ${showControls((e as Error).message)}`
      }
      if (entries) {
        result.entries = entries.slice(0, limits.entries)
        if (entries.length > limits.entries) result.entriesOmitted = entries.length - limits.entries
      }
    } else {
      const ta = asText(a)
      const tb = asText(b)
      if (ta !== null && tb !== null)
        Object.assign(result, budgetedDiff(ta, tb, [`first/${name}`, `second/${name}`], limits, budget))
    }
    out.push(result)
  }
  return out
}

/** One condition the check changed (or meant to change) between the two builds. */
export interface Variation {
  name: string
  /** whether the change took effect; false: it was skipped or could not be applied (see note) */
  applied: boolean
  first: string
  second: string
  note?: string
}

/** A condition detbuild holds the same in every build, so it cannot differ between two honest builds. */
export interface FixedCondition {
  name: string
  value: string
  why: string
}

export interface ReproReport {
  schemaVersion: 1
  reproducible: boolean
  /** the one-line answer: "reproducible under N variations; not varied: …" */
  verdict: string
  variations: Variation[]
  fixed: FixedCondition[]
  outputs: OutputComparison[]
}

/**
 * The one-line verdict: how many variations the two builds were compared under and which did not take
 * effect (the builds are not known to be independent of those).
 */
export function toVerdict(
  reproducible: boolean,
  variations: readonly Variation[],
  outputs: readonly OutputComparison[],
): string {
  const applied = variations.filter((v) => v.applied).length
  const skipped = variations.filter((v) => !v.applied).map((v) => v.name)
  const under = `under ${applied} variation${applied === 1 ? '' : 's'}`
  const head = reproducible
    ? `reproducible ${under}`
    : `NOT reproducible ${under}: ${outputs
        .filter((o) => o.status !== 'identical')
        .map((o) => o.name)
        .join(', ')} differ`
  return skipped.length ? `${head}; not varied: ${skipped.join(', ')}` : head
}

/** Names of the variations that did not take effect (what `--strict` refuses). */
export function skippedVariations(report: Pick<ReproReport, 'variations'>): string[] {
  return report.variations.filter((v) => !v.applied).map((v) => v.name)
}

/** Text for a Markdown code span: controls escaped, fenced by more backticks than it holds. */
function code(text: string): string {
  const shown = showControls(text)
  const run = Math.max(0, ...[...shown.matchAll(/`+/g)].map((m) => m[0].length))
  const fence = '`'.repeat(run + 1)
  return run > 0 ? `${fence} ${shown} ${fence}` : `${fence}${shown}${fence}`
}

/** A Markdown table cell: one line, no column breaks. */
function cell(text: string): string {
  return showControls(text).replace(/\|/g, '\\|')
}

/** A fenced diff block that the diff's own content cannot close; controls but tabs escaped. */
function diffBlock(diff: string): string[] {
  const shown = diff
    .split('\n')
    .map((l) => l.split('\t').map(showControls).join('\t'))
    .join('\n')
  const run = Math.max(2, ...[...shown.matchAll(/`{3,}/g)].map((m) => m[0].length))
  const fence = '`'.repeat(run + 1)
  return ['', `${fence}diff`, shown, fence, '']
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
    `Verdict: ${showControls(report.verdict)}`,
    '',
    '## Variations between the two builds',
    '',
    '| variation | varied | first build | second build |',
    '| --- | --- | --- | --- |',
    ...report.variations.map(
      (v) =>
        `| ${cell(v.name)} | ${v.applied ? `yes${v.note ? `: ${cell(v.note)}` : ''}` : `**no**${v.note ? `: ${cell(v.note)}` : ''}`} | ${cell(v.first)} | ${cell(v.second)} |`,
    ),
    '',
  ]
  if (report.fixed.length > 0)
    lines.push(
      '## Held the same by detbuild (not variations)',
      '',
      '| condition | value | why |',
      '| --- | --- | --- |',
      ...report.fixed.map((f) => `| ${cell(f.name)} | ${cell(f.value)} | ${cell(f.why)} |`),
      '',
    )
  lines.push('## Outputs', '')
  for (const o of report.outputs) {
    lines.push(`### ${code(o.name)}: ${o.status}`, '')
    if (o.sha256 && o.status === 'differs')
      lines.push(`- sha256 first: \`${o.sha256.first}\``, `- sha256 second: \`${o.sha256.second}\``)
    if (o.size && o.status === 'differs') lines.push(`- size: ${o.size.first} vs ${o.size.second} bytes`)
    if (o.note) lines.push(`- ${showControls(o.note)}`)
    for (const e of o.entries ?? []) {
      const facts = [
        ...(e.fields ?? []).map((f) => `${f.field}: ${f.first} → ${f.second}`),
        ...(e.size && e.size.first !== e.size.second ? [`size: ${e.size.first} → ${e.size.second}`] : []),
        ...(e.sha256 ? [`sha256: ${e.sha256.first.slice(0, 12)}… → ${e.sha256.second.slice(0, 12)}…`] : []),
      ]
      lines.push(`- ${code(e.path)}: ${e.change}${facts.length ? ` (${cell(facts.join(', '))})` : ''}`)
      if (e.diff) lines.push(...diffBlock(e.diff))
      if (e.diffOmitted) lines.push(`  (diff left out: ${e.diffOmitted})`)
    }
    if (o.entriesOmitted)
      lines.push(
        `- … ${o.entriesOmitted} more differing entries (truncated: the report lists at most ${REPORT_LIMITS.entries})`,
      )
    if (o.diff) lines.push(...diffBlock(o.diff))
    if (o.diffOmitted) lines.push(`(diff left out: ${o.diffOmitted})`)
    lines.push('')
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`
}
