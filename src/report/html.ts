/**
 * Pure HTML helpers for the report: every string from an input file goes through `esc` (text and
 * double-quoted attribute values alike), is cut to a bounded length, and is never parsed as markup.
 * Hand-written rather than a template library: the page is small, has no scripts, and the escaping rules
 * for text and quoted attributes fit in one function that the tests can read.
 */

/** The longest input string shown in full; longer ones are cut with an ellipsis and a character count. */
const MAX_TEXT = 2000

/**
 * Bidirectional controls (embeddings, overrides, isolates, marks): an input string could reorder the text
 * after it (`\u202E` makes "(major)" read "(rojam)"), so each is shown as its code point instead.
 */
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g

/** How a bidirectional control character is shown: `⟨U+202E⟩`. */
export const showBidi = (s: string): string =>
  s.replace(BIDI, (c) => `⟨U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}⟩`)

/**
 * Text and attribute-value escaping (the five characters that can change HTML meaning), bidirectional
 * controls made visible, bounded in length.
 */
export function esc(value: unknown): string {
  let s = typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value)
  if (s.length > MAX_TEXT) s = `${s.slice(0, MAX_TEXT)}… (${s.length} characters)`
  return showBidi(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/** A count in a fixed, locale-independent form (1,234,567): the same bytes on every machine. */
export function num(n: number): string {
  if (!Number.isFinite(n)) return esc(n)
  const [int, frac] = String(n).split('.')
  const grouped = (int ?? '').replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return frac === undefined ? grouped : `${grouped}.${frac}`
}

/** A table of escaped cells; `head` cells are trusted literals (the report's own words). */
export function table(head: readonly string[], rows: readonly (readonly string[])[], cls = ''): string {
  const th = head.map((h) => `<th scope="col">${h}</th>`).join('')
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`
}

/** "… N more not shown" when a list was cut at `shown` of `total`. */
export function more(total: number, shown: number, what: string): string {
  return total > shown
    ? `<p class="more">… ${num(total - shown)} more ${what} not shown (${num(shown)} of ${num(total)})</p>`
    : ''
}

/** A status word as a badge; `status` is matched against a fixed set, never written into a class name. */
export function badge(status: string): string {
  const kind =
    {
      pass: 'ok',
      matches: 'ok',
      yes: 'ok',
      complete: 'ok',
      warn: 'warn',
      'not run': 'none',
      'not checked': 'none',
      absent: 'none',
      fail: 'bad',
      differs: 'bad',
      no: 'bad',
      incomplete: 'warn',
    }[status] ?? 'none'
  return `<span class="badge ${kind}">${esc(status)}</span>`
}
