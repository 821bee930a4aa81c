import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import ts from 'typescript'
import { repoRoot } from '../helpers/paths.ts'

const SRC = path.join(repoRoot, 'src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : []
  })
}

/**
 * Where code reads `process.env` (`process.env`, `process['env']`, `const { env } = process`), as
 * file:line. Comments and string or template text (the build's clock preload is source text run in the
 * build's own node processes) are not code and do not count.
 */
function processEnvReads(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const at = (node: ts.Node) =>
    `${path.relative(repoRoot, file)}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`
  const isProcess = (e: ts.Expression) => ts.isIdentifier(e) && e.text === 'process'
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && isProcess(node.expression) && node.name.text === 'env')
      found.push(at(node))
    else if (
      ts.isElementAccessExpression(node) &&
      isProcess(node.expression) &&
      ts.isStringLiteralLike(node.argumentExpression) &&
      node.argumentExpression.text === 'env'
    )
      found.push(at(node))
    else if (
      ts.isVariableDeclaration(node) &&
      node.initializer &&
      isProcess(node.initializer) &&
      ts.isObjectBindingPattern(node.name) &&
      node.name.elements.some((b) => ((b.propertyName ?? b.name) as ts.Identifier).text === 'env')
    )
      found.push(at(node))
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return found
}

test('only src/config/ reads process.env: every other folder takes the resolved context', () => {
  const outside = sourceFiles(SRC)
    .filter((f) => !f.startsWith(path.join(SRC, 'config') + path.sep))
    .flatMap(processEnvReads)
  assert.deepEqual(outside, [], `process.env read outside src/config/: ${outside.join(', ')}`)
})

test('the check sees a read: config/context.ts reads process.env (hostEnvironment)', () => {
  // the detector itself must be able to fail: it finds the one deliberate read
  assert.ok(processEnvReads(path.join(SRC, 'config', 'context.ts')).length > 0)
})
