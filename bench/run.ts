/**
 * `npm run bench [-- name…]`: every benchmark in bench/ (or the named ones: sbom, scan, build, hash, tar, startup), one
 * after another, after `npm run build` (the benchmarks run the shipped CLI). A benchmark that fails fails the run.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const dir = path.dirname(fileURLToPath(import.meta.url))
const only = process.argv.slice(2)
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'lib.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort()
const unknown = only.filter((n) => !all.includes(n))
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (there are: ${all.join(', ')})`)
  process.exit(2)
}
const failed: string[] = []
for (const name of all.filter((n) => only.length === 0 || only.includes(n))) {
  console.log(`\n## bench/${name}.ts`)
  const r = spawnSync(process.execPath, [path.join(dir, `${name}.ts`)], { stdio: 'inherit' })
  if (r.status !== 0) failed.push(name)
}
if (failed.length > 0) {
  console.error(`\nFAILED: ${failed.join(', ')}`)
  process.exit(1)
}
