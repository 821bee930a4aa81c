import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

/**
 * The import graph of src/ and the one-door rule over it (docs/architecture.md "Code layout").
 *
 * Files are named by their POSIX path relative to src/ (`scan/zip.ts`). A file's "area" is its top-level
 * folder (`scan`), or the file itself when it sits directly in src/ (`errors.ts`): those are shared modules
 * anyone may import. The rule:
 * - a file may import any file of its own area;
 * - from another folder it may import only that folder's `index.ts` (the door), except `util/`, whose files
 *   are leaf modules imported directly;
 * - `util/` imports nothing outside `util/` but `errors.ts`, so it can never close a cycle;
 * - there is no cycle between areas.
 */

/** One import of one file: where it points, already resolved to a path relative to src/. */
export interface ImportEdge {
  from: string
  to: string
  specifier: string
}

/** What the rule measured; every list is sorted so the failure message is stable. */
export interface DoorReport {
  edges: number
  deepImports: string[]
  utilEscapes: string[]
  cycles: string[][]
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Every module specifier of one TypeScript source: static `import`/`export ... from` (type-only too,
 * over any number of lines), side-effect imports, `import('x')` with a literal, `import('x')` types and
 * `import x = require('x')`. It uses the TypeScript parser, so comments and strings that merely look like
 * imports are not counted.
 */
export function moduleSpecifiers(source: string, fileName = 'file.ts'): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text)
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text)
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push(node.argument.literal.text)
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      found.push(node.moduleReference.expression.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

/**
 * The edges between files of one source tree given as `{ 'scan/zip.ts': '...source...' }`. Only relative
 * specifiers that land inside the tree count: packages and `node:` modules are not part of the layout.
 */
export function importEdges(files: Record<string, string>): ImportEdge[] {
  const edges: ImportEdge[] = []
  for (const from of Object.keys(files).sort(compare)) {
    // A file that imports a module's types and its values names it twice; that is one edge.
    const seen = new Set<string>()
    for (const specifier of moduleSpecifiers(files[from]!, from)) {
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue
      const to = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier))
      if (to.startsWith('../') || !(to in files) || seen.has(to)) continue
      seen.add(to)
      edges.push({ from, to, specifier })
    }
  }
  return edges
}

/** The top-level folder of a file, or the file itself when it sits directly in the tree's root. */
export function areaOf(file: string): string {
  const slash = file.indexOf('/')
  return slash === -1 ? file : file.slice(0, slash)
}

const isFolder = (area: string) => !area.endsWith('.ts')

/** Checks the one-door rule and the absence of cycles between areas over one source tree. */
export function checkDoors(files: Record<string, string>): DoorReport {
  const edges = importEdges(files)
  const deepImports: string[] = []
  const utilEscapes: string[] = []
  const graph = new Map<string, Set<string>>()
  for (const file of Object.keys(files)) graph.set(areaOf(file), graph.get(areaOf(file)) ?? new Set())
  for (const { from, to, specifier } of edges) {
    const a = areaOf(from)
    const b = areaOf(to)
    if (a === b) continue
    graph.get(a)!.add(b)
    if (a === 'util' && to !== 'errors.ts') utilEscapes.push(`${from} imports ${to} ('${specifier}')`)
    if (isFolder(b) && b !== 'util' && to !== `${b}/index.ts`) {
      deepImports.push(`${from} imports ${to} ('${specifier}'): use ${b}/index.ts`)
    }
  }
  return {
    edges: edges.length,
    deepImports: deepImports.sort(compare),
    utilEscapes: utilEscapes.sort(compare),
    cycles: areaCycles(graph),
  }
}

/**
 * The strongly connected groups of more than one area (Tarjan), each sorted, as a cycle is named by its
 * members: `['policy', 'verify']` means policy reaches verify and verify reaches policy.
 */
export function areaCycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const groups: string[][] = []
  const connect = (v: string): void => {
    index.set(v, next)
    low.set(v, next)
    next++
    stack.push(v)
    onStack.add(v)
    for (const w of [...(graph.get(v) ?? [])].sort(compare)) {
      if (!index.has(w)) {
        connect(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        group.push(w)
      } while (w !== v)
      if (group.length > 1) groups.push(group.sort(compare))
    }
  }
  for (const v of [...graph.keys()].sort(compare)) if (!index.has(v)) connect(v)
  return groups.sort((x, y) => compare(x.join(), y.join()))
}

/** Reads every `.ts` file below `root` into the `{ relative path: source }` shape the checks take. */
export function readSourceTree(root: string): Record<string, string> {
  const files: Record<string, string> = {}
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const full = path.join(entry.parentPath, entry.name)
    files[path.relative(root, full).split(path.sep).join('/')] = readFileSync(full, 'utf8')
  }
  return files
}
