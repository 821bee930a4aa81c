/**
 * The code layout rule (docs/architecture.md "Code layout"): every folder of src/ is entered only through
 * its index.ts, util/ files are leaf modules anyone may import, and no two folders reach each other.
 * The checks first prove themselves on a small in-memory tree, then run over the real src/.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { areaCycles, checkDoors, importEdges, moduleSpecifiers, readSourceTree } from './import-graph.ts'

const SRC = fileURLToPath(new URL('../../src/', import.meta.url))

test('moduleSpecifiers reads every form of import, over several lines, and nothing in comments or strings', () => {
  const source = [
    "import { a } from './a.ts'",
    'import {',
    '  b,',
    '  type B,',
    "} from './b.ts'",
    "import type { C } from '../c/index.ts'",
    "import type {\n  D,\n} from '../d/x.ts'",
    "export { e } from './e.ts'",
    "export type * from './f.ts'",
    "export * as g from './g.ts'",
    "import './side-effect.ts'",
    "const h = await import('../h/deep.ts')",
    "let i: typeof import('../i/deep.ts').thing",
    "import j = require('./j.ts')",
    "// import { k } from '../k/deep.ts'",
    "/* export { l } from '../l/deep.ts' */",
    'const m = "import { m } from \'../m/deep.ts\'"',
    'const n = await import(someName)',
  ].join('\n')
  assert.deepEqual(moduleSpecifiers(source), [
    './a.ts',
    './b.ts',
    '../c/index.ts',
    '../d/x.ts',
    './e.ts',
    './f.ts',
    './g.ts',
    './side-effect.ts',
    '../h/deep.ts',
    '../i/deep.ts',
    './j.ts',
  ])
})

test('checkDoors names a deep import, a util escape and a cycle in a small tree, and accepts the doors', () => {
  const tree: Record<string, string> = {
    'errors.ts': '',
    'index.ts': "export { run } from './run/index.ts'",
    'util/fs.ts': "import { E } from '../errors.ts'\nimport { s } from './sort.ts'",
    'util/sort.ts': "import { leak } from '../scan/index.ts'",
    'scan/index.ts': "export { x } from './zip.ts'\nimport { f } from '../util/fs.ts'",
    'scan/zip.ts': "import type { T } from '../policy/index.ts'",
    'policy/index.ts': "import { E } from '../errors.ts'",
    'policy/rules.ts': "import {\n  x,\n} from '../scan/zip.ts'",
    'run/index.ts': "const p = await import('../policy/index.ts')\nimport '../workspace/index.ts'",
    'workspace/index.ts': "export * from './build-json.ts'",
    'workspace/build-json.ts': '',
  }
  const report = checkDoors(tree)
  assert.deepEqual(report.deepImports, [
    "policy/rules.ts imports scan/zip.ts ('../scan/zip.ts'): use scan/index.ts",
  ])
  assert.deepEqual(report.utilEscapes, ["util/sort.ts imports scan/index.ts ('../scan/index.ts')"])
  // scan → policy (door) and policy → scan (deep) close a cycle; util → scan → util closes another
  assert.deepEqual(report.cycles, [['policy', 'scan', 'util']])
  // the same tree with the offending lines taken out is clean: a folder such as workspace/ counts like any other
  const clean = { ...tree, 'util/sort.ts': '', 'policy/rules.ts': '' }
  assert.deepEqual(checkDoors(clean), { edges: 10, deepImports: [], utilEscapes: [], cycles: [] })
  assert.deepEqual(
    importEdges(clean).map((e) => `${e.from} > ${e.to}`),
    [
      'index.ts > run/index.ts',
      'policy/index.ts > errors.ts',
      'run/index.ts > policy/index.ts',
      'run/index.ts > workspace/index.ts',
      'scan/index.ts > scan/zip.ts',
      'scan/index.ts > util/fs.ts',
      'scan/zip.ts > policy/index.ts',
      'util/fs.ts > errors.ts',
      'util/fs.ts > util/sort.ts',
      'workspace/index.ts > workspace/build-json.ts',
    ],
  )
})

test('areaCycles finds each strongly connected group once, and none in a chain', () => {
  const g = (edges: [string, string][]) => {
    const m = new Map<string, Set<string>>()
    for (const [a, b] of edges) {
      m.set(a, (m.get(a) ?? new Set()).add(b))
      if (!m.has(b)) m.set(b, new Set())
    }
    return m
  }
  assert.deepEqual(
    areaCycles(
      g([
        ['a', 'b'],
        ['b', 'c'],
      ]),
    ),
    [],
  )
  assert.deepEqual(
    areaCycles(
      g([
        ['a', 'b'],
        ['b', 'a'],
        ['c', 'd'],
        ['d', 'e'],
        ['e', 'c'],
        ['e', 'a'],
      ]),
    ),
    [
      ['a', 'b'],
      ['c', 'd', 'e'],
    ],
  )
})

const report = checkDoors(readSourceTree(SRC))
const measured = `${report.edges} imports, ${report.deepImports.length} deep, ${report.utilEscapes.length} util escapes, ${report.cycles.length} folder cycles`

test(`src/: every folder is entered through its index.ts (${measured})`, (t) => {
  t.diagnostic(measured)
  // a tree this size has hundreds of imports: an empty graph would mean the reader found nothing
  assert.ok(report.edges > 100, `only ${report.edges} imports read from ${path.relative(process.cwd(), SRC)}`)
  assert.deepEqual(report.deepImports, [], `deep imports:\n  ${report.deepImports.join('\n  ')}`)
  assert.deepEqual(
    report.utilEscapes,
    [],
    `util/ imports nothing outside util/ but errors.ts:\n  ${report.utilEscapes.join('\n  ')}`,
  )
})

test(`src/: no cycle between top-level folders (${report.cycles.length} found)`, (t) => {
  t.diagnostic(`folder cycles: ${report.cycles.length}`)
  assert.deepEqual(
    report.cycles,
    [],
    `folders that reach each other:\n  ${report.cycles.map((c) => c.join(' ⇄ ')).join('\n  ')}`,
  )
})
