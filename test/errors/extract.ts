/**
 * What catalogue.test.ts compares: the codes the source uses (read from its syntax tree, so comments and
 * look-alikes such as environment variable names do not count), the codes docs/errors.md documents, and
 * the problems between them and the catalogue. Pure functions over text, so the test can prove them on a
 * small fake source and a fake page.
 */
import ts from 'typescript'

/** The shape of a code: `DOMAIN_REASON`, upper case, at least one underscore. */
export const CODE_SHAPE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/

/** One use of a code in the source. */
export interface CodeUse {
  code: string
  /** `file:line` */
  at: string
  /** the error class when the code is the first argument of `new SomethingError(...)` */
  errorClass?: string
}

/**
 * Every code a TypeScript source uses: a string literal of the code shape that is the first argument of
 * `new …Error(…)` (whatever its domain, so a code of a new domain is found), or that starts with a known
 * domain prefix (codes handed to a helper — `readJsonFile(file, 'SBOM_X')` — to a failure list, or to a
 * result). Comments never count; `HTTP_PROXY` and `SOURCE_DATE_EPOCH` have no domain prefix.
 */
export function extractCodeUses(source: string, fileName: string, domains: ReadonlySet<string>): CodeUse[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const uses: CodeUse[] = []
  const visit = (node: ts.Node): void => {
    if (
      (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) &&
      CODE_SHAPE.test(node.text)
    ) {
      const parent = node.parent
      const errorClass =
        parent &&
        ts.isNewExpression(parent) &&
        parent.arguments?.[0] === node &&
        ts.isIdentifier(parent.expression) &&
        parent.expression.text.endsWith('Error')
          ? parent.expression.text
          : undefined
      const domain = node.text.slice(0, node.text.indexOf('_'))
      if (errorClass !== undefined || domains.has(domain)) {
        const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1
        uses.push({ code: node.text, at: `${fileName}:${line}`, ...(errorClass ? { errorClass } : {}) })
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return uses
}

/** What a page documents: every code mentioned in backticks, and the exit column of each code's table row. */
export interface DocumentedCodes {
  mentioned: Set<string>
  /** code → exit codes, from table rows `| \`CODE\` | 3, 2 | …` */
  rows: Map<string, number[]>
}

/** Reads docs/errors.md. The "Renamed codes" section names old codes on purpose and is left out. */
export function readDocumentedCodes(markdown: string): DocumentedCodes {
  const text = markdown.replace(/^## Renamed codes\n[\s\S]*?(?=^## |(?![\s\S]))/m, '')
  const mentioned = new Set<string>()
  for (const m of text.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`/g)) mentioned.add(m[1]!)
  const rows = new Map<string, number[]>()
  for (const m of text.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| (\d+(?:, \d+)*) \|/gm))
    rows.set(m[1]!, m[2]!.split(', ').map(Number))
  return { mentioned, rows }
}

/** A catalogue as the check needs it: code → its exit codes. */
export type CatalogueExits = ReadonlyMap<string, readonly number[]>

/** The exit code each error class ends a command with (src/errors.ts). */
export const CLASS_EXIT: Readonly<Record<string, number>> = {
  CheckFailedError: 1,
  InputError: 2,
  IncompleteError: 3,
  InternalError: 70,
}

/**
 * Every disagreement between the source, the catalogue and the page, one line each; empty when they agree.
 * `domains` are the catalogue's prefixes: a documented code with one of them must be in the catalogue.
 */
export function findCatalogueProblems(
  uses: readonly CodeUse[],
  catalogue: CatalogueExits,
  documented: DocumentedCodes,
  domains: ReadonlySet<string>,
): string[] {
  const problems: string[] = []
  const used = new Set(uses.map((u) => u.code))
  for (const u of uses) {
    if (!catalogue.has(u.code)) {
      problems.push(`${u.at}: ${u.code} is used but not in src/error-codes.ts`)
      continue
    }
    const classExit = u.errorClass === undefined ? undefined : CLASS_EXIT[u.errorClass]
    if (classExit !== undefined && !catalogue.get(u.code)!.includes(classExit))
      problems.push(
        `${u.at}: ${u.code} is thrown as ${u.errorClass} (exit ${classExit}) but the catalogue says exit ${catalogue.get(u.code)!.join(', ')}`,
      )
  }
  for (const [code, exits] of catalogue) {
    if (!used.has(code)) problems.push(`${code} is in the catalogue but never used in src/`)
    if (!documented.mentioned.has(code)) problems.push(`${code} is not documented in docs/errors.md`)
    const row = documented.rows.get(code)
    if (row === undefined) problems.push(`${code} has no table row in docs/errors.md`)
    else if (row.join(', ') !== exits.join(', '))
      problems.push(`${code}: docs/errors.md says exit ${row.join(', ')}, the catalogue ${exits.join(', ')}`)
  }
  for (const code of documented.mentioned)
    if (domains.has(code.slice(0, code.indexOf('_'))) && !catalogue.has(code))
      problems.push(`${code} is documented in docs/errors.md but not in the catalogue (never thrown?)`)
  return [...new Set(problems)].sort()
}
