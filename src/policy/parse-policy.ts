/**
 * Policy text → validated Policy. Pure: the caller reads the file and the schema. Every problem names the
 * file, the key path and the line; all problems are collected and raised once (exit 2).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import semver from 'semver'
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml'
import { InputError } from '../errors.ts'
import { describeJsonType, parseYamlCapped, YAML_MAX_ALIAS_COUNT } from '../util/json-parse.ts'
import { isKnownRule } from './rule-ids.ts'
import { parseSpdx } from './spdx.ts'
import type { Policy } from './types.ts'

export interface PolicyProblem {
  path: string
  line: number | null
  message: string
}

const validators = new WeakMap<object, ValidateFunction>()

function validatorFor(schema: object): ValidateFunction {
  let v = validators.get(schema)
  if (!v) {
    v = new Ajv({ allErrors: true, strict: true }).compile(schema)
    validators.set(schema, v)
  }
  return v
}

/** Parses and validates a policy (YAML or JSON text). Throws POLICY_INVALID naming file, key and line. */
export function parsePolicy(text: string, file: string, schema: object): Policy {
  const lineCounter = new LineCounter()
  // warnings stay in the document (logLevel): an unresolved tag is refused below, never printed
  const doc = parseDocument(text, {
    keepSourceTokens: true,
    lineCounter,
    prettyErrors: false,
    logLevel: 'error',
  })
  const lineOf = (offset: number | undefined): number | null =>
    offset === undefined ? null : lineCounter.linePos(offset).line

  if (doc.errors.length > 0 || doc.warnings.length > 0) {
    const problems = [...doc.errors, ...doc.warnings].map((e) => ({
      path: '',
      line: lineOf(e.pos[0]),
      message: e.message,
    }))
    throw toError(file, problems, 'invalid YAML')
  }
  // aliases and depth capped: a "billion laughs" or a 100k-deep policy is bad input, not a crash
  const value: unknown = parseYamlCapped(
    text,
    file,
    () => doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT }),
    'POLICY_INVALID',
  )
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(
      'POLICY_INVALID',
      `a policy must be a mapping with at least \`version: 1\`, not ${describeJsonType(value)}`,
      { file },
    )
  }

  /** The node at a JSON path, and for a key, the key node itself. */
  const locate = (segments: Array<string | number>, key?: string): number | null => {
    const node = doc.getIn(segments, true) as Node | undefined
    if (key !== undefined && isMap(node)) {
      for (const item of node.items) {
        if (isPair(item) && isScalar(item.key) && String(item.key.value) === key)
          return lineOf(item.key.range?.[0])
      }
    }
    if (node && (isScalar(node) || isMap(node) || isSeq(node))) return lineOf(node.range?.[0])
    // fall back to the closest ancestor that exists
    for (let n = segments.length - 1; n >= 0; n--) {
      const parent = doc.getIn(segments.slice(0, n), true) as Node | undefined
      if (parent && 'range' in parent) return lineOf(parent.range?.[0])
    }
    return 1
  }

  const problems: PolicyProblem[] = []
  const validate = validatorFor(schema)
  if (!validate(value)) {
    for (const e of dedupe(validate.errors ?? [])) problems.push(toProblem(e, locate))
  }
  if (problems.length === 0) problems.push(...checkSemantics(value as Policy, locate))
  if (problems.length > 0) throw toError(file, problems, 'invalid policy')
  return value as Policy
}

function segmentsOf(instancePath: string): Array<string | number> {
  if (instancePath === '') return []
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

function displayPath(segments: Array<string | number>): string {
  let out = ''
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`
  return out === '' ? '(top level)' : out
}

// ajv reports `enum` and `const` failures once per branch; keep one line per path and keyword
function dedupe(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>()
  return errors.filter((e) => {
    const k = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

function toProblem(
  e: ErrorObject,
  locate: (segments: Array<string | number>, key?: string) => number | null,
): PolicyProblem {
  const segments = segmentsOf(e.instancePath)
  switch (e.keyword) {
    case 'additionalProperty':
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty)
      return { path: displayPath([...segments, key]), line: locate(segments, key), message: 'unknown key' }
    }
    case 'required': {
      const key = String((e.params as { missingProperty: string }).missingProperty)
      return {
        path: displayPath([...segments, key]),
        line: locate(segments),
        message: 'missing required key',
      }
    }
    case 'type':
      return {
        path: displayPath(segments),
        line: locate(segments),
        message: `must be ${article((e.params as { type: string }).type)}`,
      }
    case 'enum':
      return {
        path: displayPath(segments),
        line: locate(segments),
        message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`,
      }
    case 'const':
      return {
        path: displayPath(segments),
        line: locate(segments),
        message: `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`,
      }
    default:
      return { path: displayPath(segments), line: locate(segments), message: e.message ?? e.keyword }
  }
}

function article(type: string): string {
  const t = type.replace(/,/g, ' or ')
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`
}

/** Checks the schema cannot express: SPDX ids, semver ranges, what an exception is about. */
function checkSemantics(
  policy: Policy,
  locate: (segments: Array<string | number>, key?: string) => number | null,
): PolicyProblem[] {
  const problems: PolicyProblem[] = []
  const at = (segments: Array<string | number>, message: string): void => {
    problems.push({ path: displayPath(segments), line: locate(segments), message })
  }
  for (const list of ['allow', 'deny'] as const) {
    policy.licenses?.[list]?.forEach((id, i) => {
      const parsed = parseSpdx(id)
      if (!parsed.ok) at(['licenses', list, i], `not an SPDX licence identifier: ${JSON.stringify(id)}`)
      else if (parsed.leaves.length !== 1 || parsed.branches.length !== 1)
        at(['licenses', list, i], 'must be one licence, not an AND/OR expression')
    })
  }
  policy.packages?.deny?.forEach((entry, i) => {
    if (entry.versions !== undefined && semver.validRange(entry.versions) === null)
      at(['packages', 'deny', i, 'versions'], `not a semver range: ${JSON.stringify(entry.versions)}`)
  })
  policy.exceptions?.forEach((ex, i) => {
    if (ex.vulnerability === undefined && ex.license === undefined && ex.rule === undefined)
      at(['exceptions', i], 'an exception needs `vulnerability`, `license` or `rule`')
    if (ex.rule !== undefined && !isKnownRule(ex.rule))
      at(
        ['exceptions', i, 'rule'],
        `unknown rule id ${JSON.stringify(ex.rule)} (see the rule table in docs/policy.md)`,
      )
    if (ex.license !== undefined && !parseSpdx(ex.license).ok)
      at(['exceptions', i, 'license'], `not an SPDX licence identifier: ${JSON.stringify(ex.license)}`)
    if (ex.expires !== undefined && Number.isNaN(Date.parse(ex.expires)))
      at(['exceptions', i, 'expires'], `not a valid date: ${JSON.stringify(ex.expires)}`)
  })
  return problems
}

function toError(file: string, problems: PolicyProblem[], what: string): InputError {
  const lines = problems.map((p) => {
    const line = p.line === null ? '' : `line ${p.line}`
    const where = p.path === '' ? line : line === '' ? p.path : `${p.path} (${line})`
    return where === '' ? p.message : `${where}: ${p.message}`
  })
  return new InputError('POLICY_INVALID', `${what}: ${lines.join('; ')}`, {
    file,
    details: { problems },
  })
}
