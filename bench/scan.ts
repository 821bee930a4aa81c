/**
 * Benchmark: offline matching of a 1,000+ component SBOM against an OSV export of 50,000+ records
 * (the real fixture records plus generated ones), as the compiled `detbuild scan --offline-db` CLI.
 *
 * The data is generated once, by a separate process, into a temp dir keyed by its parameters and the
 * fixture records (reused by later runs); the CLI is compiled into bench/.work/dist. The measured
 * processes only scan. Two lines: every run reading the whole export (`--no-cache`: what a first scan
 * of an export costs) and runs using the package index cache (what scanning the same export again costs).
 *
 *   node bench/scan.ts [components] [records]      (BENCH_RUNS=5: runs per line, median reported)
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { measure, report } from './lib.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const recordsDir = path.join(root, 'fixtures', 'osv', 'records')
/** bump when the generated data changes */
const GENERATOR = 2

if (process.argv[2] === '--generate') {
  await generate(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]))
} else {
  await bench(Number(process.argv[2] ?? 1200), Number(process.argv[3] ?? 50_000))
}

async function bench(components: number, total: number): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5)
  const data = dataDir(components, total)
  if (!existsSync(path.join(data, 'all.zip'))) {
    const tmp = `${data}.${process.pid}.tmp`
    run([process.execPath, fileURLToPath(import.meta.url), '--generate', tmp, `${components}`, `${total}`])
    rmSync(data, { recursive: true, force: true })
    renameSync(tmp, data)
  }
  const cli = compileCli()
  const scan = [process.execPath, cli, 'scan', '--sbom', 'sbom.json', '--offline-db', 'all.zip', '--quiet']
  const cacheDir = path.join(data, 'cache')
  rmSync(cacheDir, { recursive: true, force: true })
  const results = [
    measure(
      'detbuild scan --offline-db, whole export (--no-cache)',
      [...scan, '--no-cache', '--out', 'out-a'],
      {
        cwd: data,
        runs,
      },
    ),
    measure(
      'detbuild scan --offline-db, index cache warm',
      [...scan, '--cache-dir', cacheDir, '--out', 'out-b'],
      {
        cwd: data,
        runs,
      },
    ),
  ]
  const a = readFileSync(path.join(data, 'out-a', 'vulns.json'))
  const b = readFileSync(path.join(data, 'out-b', 'vulns.json'))
  if (!a.equals(b)) throw new Error('the cached scan gave a different vulns.json')
  const v = JSON.parse(a.toString('utf8')) as { findings: unknown[]; complete: boolean }
  report(`Offline scan: ${components} components, ${total} OSV records (${runs} runs each, median)`, results)
  console.log(
    `\nfindings: ${v.findings.length}, complete: ${v.complete}, identical vulns.json with and without the cache; target: under 1 s`,
  )
}

/** The data dir, named by what it holds: parameters, generator version, fixture records. */
function dataDir(components: number, total: number): string {
  const h = createHash('sha256').update(`${GENERATOR}\u0000${components}\u0000${total}\n`)
  for (const f of readdirSync(recordsDir).sort()) h.update(f).update(readFileSync(path.join(recordsDir, f)))
  return path.join(os.tmpdir(), `detbuild-bench-scan-${h.digest('hex').slice(0, 16)}`)
}

/** Compiles the CLI as shipped (tsc, per-file ESM) into bench/.work/dist; returns its entry. */
function compileCli(): string {
  const work = path.join(root, 'bench', '.work')
  const dist = path.join(work, 'dist')
  rmSync(dist, { recursive: true, force: true })
  run(
    [
      process.execPath,
      path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      dist,
      '--declaration',
      'false',
    ],
    root,
  )
  const entry = path.join(work, 'detbuild.mjs')
  // bin/detbuild.js, pointing at this build (with the same on-disk code cache)
  writeFileSync(
    entry,
    "import module from 'node:module'\nmodule.enableCompileCache?.()\nconst { runCli } = await import('./dist/cli/main.js')\nawait runCli()\n",
  )
  return entry
}

function run(argv: string[], cwd = root): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} failed (${r.status})`)
}

/** Generated advisories: 4,000 packages, each in about 12 records, ECOSYSTEM ranges. */
function generated(i: number): unknown {
  const pkg = `bench-pkg-${i % 4000}`
  return {
    schema_version: '1.6.0',
    id: `BENCH-${String(i).padStart(6, '0')}`,
    modified: '2024-01-01T00:00:00Z',
    aliases: [`CVE-2099-${i}`],
    summary: `generated advisory ${i} for ${pkg}`,
    details: 'x'.repeat(400),
    severity: i % 3 === 0 ? [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }] : [],
    affected: [
      {
        package: { ecosystem: 'npm', name: pkg },
        ranges: [
          {
            type: 'ECOSYSTEM',
            events: [{ introduced: `${i % 7}.0.0` }, { fixed: `${i % 7}.${(i % 5) + 1}.0` }],
          },
        ],
        versions: [],
      },
    ],
    references: [{ type: 'ADVISORY', url: `https://example.invalid/${i}` }],
    database_specific: { severity: 'HIGH', cwe_ids: ['CWE-79'] },
  }
}

/** The separate generating step: all.zip and sbom.json in `dir`. */
async function generate(dir: string, components: number, total: number): Promise<void> {
  const { loadRecords } = await import('../test/helpers/osv-server.ts')
  const { makeSbom, makeZip } = await import('../test/scan/helpers.ts')
  await mkdir(dir, { recursive: true })
  const real = loadRecords(recordsDir)
  const entries = real.map((r) => ({ name: `${r.id}.json`, data: JSON.stringify(r) }))
  for (let i = entries.length; i < total; i++)
    entries.push({ name: `BENCH-${i}.json`, data: JSON.stringify(generated(i)) })
  await writeFile(path.join(dir, 'all.zip'), makeZip(entries))
  const pkgs = [
    { name: 'minimist', version: '1.2.5' },
    { name: 'lodash', version: '4.17.20' },
  ]
  for (let i = 0; pkgs.length < components; i++)
    pkgs.push({ name: `bench-pkg-${i}`, version: `${i % 7}.${i % 4}.0` })
  await writeFile(
    path.join(dir, 'sbom.json'),
    JSON.stringify(
      makeSbom(
        pkgs,
        pkgs.map((p) => `${p.name}@${p.version}`),
      ),
    ),
  )
}
