/**
 * Pure: untrusted text in GitHub-flavoured markdown (job summaries, reports). A finding's summary, a
 * package or file name must show as the text it is — never as a link, an image, HTML, emphasis, a
 * table column, math, an emoji or a new line that starts a heading.
 */

const ENTITY: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;' }
const BREAK = /[\r\n\u0085\u2028\u2029]+/g
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g

/**
 * Text inside a line (or a table cell): line breaks become spaces, controls U+FFFD, HTML-significant
 * characters entities, markdown punctuation is backslash-escaped (`|` too, for tables; `$` for math),
 * and `:name:` emoji shortcodes are broken with a zero-width space so `:white_check_mark:` stays text.
 */
export function mdText(value: string): string {
  return (
    value
      .replace(BREAK, ' ')
      .replace(CONTROL, '\ufffd')
      // before escaping: the emoji filter reads the rendered text, where `\_` is `_` again
      .replace(/:(?=[\w+-]+:)/g, ':\u200b')
      .replace(/[\\`*_[\]|~$]/g, (c) => `\\${c}`)
      .replace(/[<>&]/g, (c) => ENTITY[c]!)
  )
}

/**
 * A code span holding `value` literally: a fence of more backticks than the longest run inside, padded
 * when the value starts or ends with a backtick; `|` escaped for tables (GFM splits cells first).
 */
export function mdCode(value: string): string {
  const v = value.replace(BREAK, ' ').replace(CONTROL, '\ufffd').replace(/\|/g, '\\|')
  const longest = Math.max(0, ...(v.match(/`+/g) ?? []).map((run) => run.length))
  const fence = '`'.repeat(longest + 1)
  if (v === '') return '` `'
  const pad = v.startsWith('`') || v.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${v}${pad}${fence}`
}
