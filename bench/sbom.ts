/**
 * `detbuild sbom` (validated, and --no-validate) against the SBOM generators it means to replace, all from the
 * lockfile only, alternating run by run: `npm sbom --sbom-format cyclonedx --package-lock-only`,
 * `@cyclonedx/cyclonedx-npm --package-lock-only` (node_modules) and `cdxgen` (@cyclonedx/cdxgen, installed once
 * at a pinned version into the bench cache, run lockfile-only: no install, no network, no usage analysis).
 *
 * Three sizes (BENCH_SBOM_SIZES=one,large-app,20k selects): a 1-package project (start-up), fixtures/large-app,
 * and a ~20,000-entry workspace lockfile generated from the fixtures' real lockfiles (bench/data/monorepo.ts).
 * Each project is copied (package.json + lockfile) into a scratch folder, so nothing is written into the
 * repository. Runs per size: BENCH_RUNS, else 5 (1 package, large-app) and 3 (20k). Needs `npm run build`.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os, { tmpdir } from 'node:os'
import path from 'node:path'
import { cdxgenBin } from './data/cdxgen.ts'
import { monorepoProject } from './data/monorepo.ts'
import {
  type Contender,
  detbuildCli,
  goal,
  header,
  type Measure,
  repoRoot,
  report,
  roundsNote,
  runsFromEnv,
  sideBySide,
} from './lib.ts'

interface Size {
  key: string
  title: string
  /** the goal for detbuild (validated) / npm sbom */
  goal: number
  defaultRuns: number
  project: () => Promise<string>
}

const scratch = mkdtempSync(path.join(tmpdir(), 'detbuild-bench-sbom-'))
const env = {
  SOURCE_DATE_EPOCH: '1700000000',
  npm_config_loglevel: 'silent',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  FETCH_LICENSE: 'false',
}

/** package.json, the lockfile and workspace manifests of `from`, in a scratch folder (no node_modules). */
function copyProject(from: string, name: string): string {
  const to = path.join(scratch, name)
  cpSync(from, to, {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|\.detbuild|dist)([/\\]|$)/.test(src.slice(from.length)),
  })
  return to
}

/** A project with one dependency (ms, its lockfile entry taken from fixtures/large-app). */
function onePackage(): string {
  const dir = path.join(scratch, 'one-package')
  mkdirSync(dir)
  const large = JSON.parse(readFileSync(path.join(repoRoot, 'fixtures/large-app/package-lock.json'), 'utf8'))
  const ms = large.packages['node_modules/ms'] as { version: string }
  const pkg = { name: 'one-package', version: '1.0.0', dependencies: { ms: ms.version } }
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
  const lock = {
    name: pkg.name,
    version: pkg.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: pkg.name, version: pkg.version, dependencies: pkg.dependencies },
      'node_modules/ms': ms,
    },
  }
  writeFileSync(path.join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`)
  return dir
}

const SIZES: Size[] = [
  { key: 'one', title: 'a 1-package project', goal: 1, defaultRuns: 5, project: async () => onePackage() },
  {
    key: 'large-app',
    title: 'fixtures/large-app',
    goal: 0.5,
    defaultRuns: 5,
    project: async () => copyProject(path.join(repoRoot, 'fixtures', 'large-app'), 'large-app'),
  },
  {
    key: '20k',
    title: 'a generated 20k-entry monorepo of 9 workspaces',
    goal: 0.3,
    defaultRuns: 3,
    project: async () => copyProject((await monorepoProject()).dir, 'monorepo-20k'),
  },
]

function contenders(project: string, out: string): Contender[] {
  const detbuild = [...detbuildCli(), 'sbom', '--quiet']
  const all: Contender[] = [
    {
      name: 'detbuild sbom (validated)',
      cmd: [...detbuild, '--out', path.join(out, 'a')],
      cwd: project,
      env,
    },
    {
      name: 'detbuild sbom --no-validate',
      cmd: [...detbuild, '--no-validate', '--out', path.join(out, 'b')],
      cwd: project,
      env,
    },
    {
      name: 'npm sbom --package-lock-only',
      cmd: ['npm', 'sbom', '--sbom-format', 'cyclonedx', '--package-lock-only'],
      cwd: project,
      env,
    },
    {
      name: 'cyclonedx-npm --package-lock-only --validate',
      cmd: [
        process.execPath,
        path.join(repoRoot, 'node_modules', '@cyclonedx', 'cyclonedx-npm', 'bin', 'cyclonedx-npm-cli.js'),
        '--package-lock-only',
        '--output-reproducible',
        '--validate',
        '--output-file',
        path.join(out, 'cyclonedx-npm.json'),
      ],
      cwd: project,
      env,
    },
    {
      name: 'cdxgen -t js --no-install-deps (validates)',
      cmd: [
        process.execPath,
        cdxgenBin(),
        '-t',
        'js',
        '--no-install-deps',
        '--no-recurse',
        '--no-babel',
        '--lifecycle',
        'pre-build',
        '--spec-version',
        '1.6',
        '-o',
        path.join(out, 'cdxgen.json'),
        '.',
      ],
      cwd: project,
      env,
    },
  ]
  // detbuild's two lines and npm sbom always run (the goals are ratios to npm sbom); the slow anchors can be left out
  return all
    .filter((c) => !c.name.startsWith('cyclonedx-npm') || anchors.has('cyclonedx-npm'))
    .filter((c) => !c.name.startsWith('cdxgen') || anchors.has('cdxgen'))
}

/** BENCH_SBOM_ANCHORS: the optional anchors to run besides npm sbom (default both). */
const anchors = new Set((process.env.BENCH_SBOM_ANCHORS ?? 'cyclonedx-npm,cdxgen').split(',').filter(Boolean))
for (const a of anchors) {
  if (a !== 'cyclonedx-npm' && a !== 'cdxgen' && a !== 'none')
    throw new Error(`BENCH_SBOM_ANCHORS: unknown anchor '${a}' (cyclonedx-npm, cdxgen, none)`)
}

const lockEntries = (project: string): number =>
  Object.keys(JSON.parse(readFileSync(path.join(project, 'package-lock.json'), 'utf8')).packages).length

const only = (process.env.BENCH_SBOM_SIZES ?? '').split(',').filter(Boolean)
for (const o of only) {
  if (!SIZES.some((s) => s.key === o))
    throw new Error(`BENCH_SBOM_SIZES: unknown size '${o}' (${SIZES.map((s) => s.key).join(', ')})`)
}
const results: Array<{ size: Size; entries: number; measures: Measure[] }> = []
try {
  header('SBOM: detbuild vs npm sbom, cyclonedx-npm, cdxgen (lockfile only)')
  for (const size of SIZES.filter((s) => only.length === 0 || only.includes(s.key))) {
    const project = await size.project()
    const entries = lockEntries(project)
    const out = path.join(scratch, `out-${size.key}`)
    const runs = runsFromEnv(size.defaultRuns)
    const measures = sideBySide(contenders(project, out), { runs })
    report(`SBOM of ${size.title}: ${entries} lockfile entries (${roundsNote(runs)})`, measures)
    const [validated, unvalidated, npm] = measures as [Measure, Measure, Measure]
    console.log(goal('detbuild sbom (validated) / npm sbom', validated.wallMs / npm.wallMs, size.goal))
    console.log(`detbuild sbom --no-validate / npm sbom: ${(unvalidated.wallMs / npm.wallMs).toFixed(2)}×`)
    results.push({ size, entries, measures })
  }
  const small = results.find((r) => r.size.key === 'large-app')
  const big = results.find((r) => r.size.key === '20k')
  if (small && big) {
    console.log(
      `\nGrowth from ${small.entries} to ${big.entries} lockfile entries (${(big.entries / small.entries).toFixed(1)}× the entries):`,
    )
    console.log('| tool | time ratio | peak RSS ratio |')
    console.log('|---|---:|---:|')
    for (const [i, m] of big.measures.entries()) {
      const s = small.measures[i]!
      const rss = m.peakMiB !== null && s.peakMiB !== null ? `${(m.peakMiB / s.peakMiB).toFixed(1)}×` : 'n/a'
      console.log(`| ${m.name} | ${(m.wallMs / s.wallMs).toFixed(1)}× | ${rss} |`)
    }
  }
  console.log(
    `\nload average at end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
