/**
 * User regular expressions that are matched anchored (`^(?:p)$`): certificate identities and issuers
 * (`--certificate-identity-regexp`, the Action's `certificate-identity-regexp`). Pure.
 *
 * Wrapping text in `^(?:…)$` is only an anchor when the text is a complete expression on its own: `a)|(.*`
 * closes the wrapper's group early and becomes `^(?:a)|(.*)$`, which matches anything. So the pattern is
 * compiled alone first, with the same `u` flag as the anchored form: alone, an unbalanced `)` or `(`, a
 * trailing `\`, an open `[` or `{`, or a lookbehind that is never closed is a syntax error. A pattern that
 * compiles alone is one whole Disjunction that starts and ends outside any group, class or escape, so the
 * wrapper's `(?:` and `)` are exactly its own group; the non-capturing wrapper also keeps backreference
 * numbers unchanged.
 */
import { type ErrorCode, InputError } from '../errors.ts'

/** The code of a rejected identity or issuer regular expression (exit 2). */
export const IDENTITY_REGEXP_INVALID: ErrorCode = 'VERIFY_IDENTITY_REGEXP_INVALID'

/** Why `pattern` cannot be used anchored, or undefined when it can. */
export function anchoredRegExpProblem(pattern: string): string | undefined {
  if (pattern === '') return 'it is empty'
  try {
    new RegExp(pattern, 'u')
  } catch (e) {
    return `not a regular expression on its own (${messageOf(e)})`
  }
  let anchored: RegExp
  try {
    anchored = new RegExp(`^(?:${pattern})$`, 'u')
  } catch (e) {
    return `cannot be anchored (${messageOf(e)})`
  }
  // belt and braces: the wrapper must still be one group around the whole pattern, so the source of the
  // anchored form is the pattern with exactly the wrapper around it and nothing can follow the `$`
  if (anchored.source !== `^(?:${new RegExp(pattern, 'u').source})$`) return 'cannot be anchored'
  return undefined
}

/**
 * `pattern` matched against the whole string. Throws a SyntaxError for a pattern that is not valid on
 * its own or would escape the anchoring (see the module comment).
 */
export function toAnchoredRegExp(pattern: string): RegExp {
  const problem = anchoredRegExpProblem(pattern)
  if (problem !== undefined) throw new SyntaxError(problem)
  return new RegExp(`^(?:${pattern})$`, 'u')
}

/** Checks a user's pattern; `what` names where it came from (`--certificate-identity-regexp`). Exit 2. */
export function checkAnchoredRegExp(pattern: string, what: string, file?: string): RegExp {
  const problem = anchoredRegExpProblem(pattern)
  if (problem !== undefined)
    throw new InputError(
      IDENTITY_REGEXP_INVALID,
      `${what} ${JSON.stringify(pattern)} is rejected: ${problem}`,
      {
        ...(file !== undefined ? { file } : {}),
      },
    )
  return new RegExp(`^(?:${pattern})$`, 'u')
}

function messageOf(e: unknown): string {
  return e instanceof Error
    ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')
    : String(e)
}
