/** Every export of the programmatic API (src/index.ts) carries TSDoc, which editors show to its users. */
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import ts from 'typescript'
import { repoRoot } from './helpers/paths.ts'

test('every export of src/index.ts has TSDoc at its declaration', () => {
  const entry = path.join(repoRoot, 'src', 'index.ts')
  const program = ts.createProgram([entry], {
    allowImportingTsExtensions: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ESNext,
    types: [],
  })
  const checker = program.getTypeChecker()
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)
  assert.ok(module, 'src/index.ts is a module')
  const exported = checker.getExportsOfModule(module)
  assert.ok(exported.length > 30, `the API's exports (${exported.length})`)
  const undocumented = exported
    .filter((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
      return ts.displayPartsToString(target.getDocumentationComment(checker)).trim() === ''
    })
    .map((symbol) => symbol.name)
  assert.deepEqual(undocumented, [], 'exports without TSDoc')
})
