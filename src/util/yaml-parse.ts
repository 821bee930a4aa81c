/**
 * Pure: the one way detbuild reads YAML text (configuration, policy and ignore files), kept apart from
 * the JSON reader so that JSON-only commands do not load the YAML library.
 */
import { parseDocument } from 'yaml'
import { YAML_MAX_ALIAS_COUNT } from './json-parse.ts'

/**
 * The YAML options every reader passes: the library's warnings kept in the document
 * (`logLevel: 'error'`) instead of printed to stderr behind detbuild's back.
 */
export const YAML_PARSE_OPTIONS = { logLevel: 'error', prettyErrors: true } as const

/**
 * Parses YAML text to plain values with YAML_PARSE_OPTIONS and aliases capped. The first error, or else the first warning
 * (an unresolved tag such as `!foo`, an unsupported `%YAML` version), is thrown as the library's
 * YAMLError (`message`, `linePos`): a document the library had to guess about is not what its author
 * wrote, so it is refused like a syntax error.
 */
export function parseYamlStrict(text: string): unknown {
  const doc = parseDocument(text, YAML_PARSE_OPTIONS)
  const problem = doc.errors[0] ?? doc.warnings[0]
  if (problem) {
    // the first line only: the library's "pretty" message goes on to quote the lines around the
    // problem, and the text may be a file that is not ours to show (a link to a secret); line and
    // column are in the first line and in `linePos`
    problem.message = problem.message.split('\n')[0]!.replace(/:\s*$/, '')
    throw problem
  }
  return doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT })
}
