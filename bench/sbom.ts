/**
 * `detbuild sbom` against `npm sbom` and `@cyclonedx/cyclonedx-npm` on the large fixture (1,000+ packages),
 * all from the lockfile only, side by side in one run. Needs `npm run build` first (it runs the shipped CLI).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Measure, measure, report } from './lib.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const project = path.join(root, 'fixtures', 'large-app')
const out = mkdtempSync(path.join(tmpdir(), 'detbuild-bench-'))
const runs = Number(process.env.BENCH_RUNS ?? 5)
const env = { SOURCE_DATE_EPOCH: '1700000000', npm_config_loglevel: 'silent' }

const detbuild = [process.execPath, path.join(root, 'bin', 'detbuild.js'), 'sbom', '--quiet', '--out', out]
const results = [
  measure('detbuild sbom (schema-validated)', detbuild, { cwd: project, runs, env }),
  measure('detbuild sbom --no-validate', [...detbuild, '--no-validate'], { cwd: project, runs, env }),
  measure(
    'npm sbom --package-lock-only (no validation)',
    ['npm', 'sbom', '--sbom-format', 'cyclonedx', '--package-lock-only'],
    {
      cwd: project,
      runs,
      env,
    },
  ),
  measure(
    '@cyclonedx/cyclonedx-npm --package-lock-only --validate',
    [
      process.execPath,
      path.join(root, 'node_modules', '@cyclonedx', 'cyclonedx-npm', 'bin', 'cyclonedx-npm-cli.js'),
      '--package-lock-only',
      '--output-reproducible',
      '--validate',
      '--output-file',
      path.join(out, 'cyclonedx-npm.json'),
    ],
    { cwd: project, runs, env },
  ),
]
report(`SBOM of fixtures/large-app (${runs} runs each, median)`, results)
const [validated, unvalidated, npm, cdx] = results as [Measure, Measure, Measure, Measure]
const pct = (a: Measure, b: Measure) => `${((a.wallMs / b.wallMs) * 100).toFixed(0)}%`
console.log(
  `\ndetbuild --no-validate takes ${pct(unvalidated, npm)} of npm sbom's wall time (target: at most 50%)`,
)
console.log(`detbuild (validated) takes ${pct(validated, cdx)} of cyclonedx-npm --validate's wall time`)
