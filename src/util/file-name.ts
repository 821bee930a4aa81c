/**
 * Pure: whether a file name may become an artifact (or any name detbuild prints, records or hands to a
 * CI runner). File names are hostile input: a line break forges a log line, a workflow command or a
 * `sha256sum` line; bidi controls make a name read differently from what it is.
 */

// C0 and C1 controls and DEL, the Unicode line and paragraph separators, and the bidi embedding,
// override and isolate controls ("Trojan Source")
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u

/**
 * Why `name` is not acceptable as an artifact name, or null when it is. A name Node decoded from bytes
 * that are not UTF-8 holds U+FFFD, the replacement character; it cannot be told from a name that holds
 * U+FFFD itself, and neither round-trips to the bytes on disk, so both are refused.
 */
export function fileNameProblem(name: string): string | null {
  const bad = UNSAFE.exec(name)
  if (bad)
    return `holds the control character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
  if (name.includes('\ufffd')) return 'is not valid UTF-8'
  if (/\p{Cs}/u.test(name)) return 'is not valid UTF-8 (a lone surrogate)'
  return null
}

/** `name` for a message: JSON-quoted with every unsafe character as `\uXXXX`, so it is shown, not obeyed. */
export function quoteFileName(name: string): string {
  return showControls(JSON.stringify(name))
}

/**
 * `text` with every unsafe character (see fileNameProblem) written `\uXXXX`: one line on a terminal,
 * with no escape sequence a hostile name or server reply could smuggle into an error message.
 */
export function showControls(text: string): string {
  return text.replace(
    new RegExp(UNSAFE.source, 'gu'),
    (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  )
}
