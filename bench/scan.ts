/**
 * Offline scan: `detbuild scan --offline-db all.zip` of an SBOM against an OSV export shaped like the real npm
 * database (bench/data/osv-export.ts), as the shipped CLI (`node bin/detbuild.js`, after `npm run build`).
 *
 * Two configurations: 1,864 components × 200,000 records (the goals) and 1,200 × 50,000. Each has two
 * lines, alternating run by run: every run reading the whole export (`--no-cache`: what a first scan costs) and
 * runs reusing the package index cache (filled by the warm-up round: what scanning the same export again costs).
 * Both must give the same vulns.json. The data is generated once, by a separate process, into the bench cache
 * (outside the repository), in a folder named by its parameters and inputs; outputs and the index cache go to a
 * scratch folder. BENCH_SCAN_SIZES=200k,50k selects; BENCH_RUNS sets the runs (default 5).
 *
 * Anchor: osv-scanner (Google's Go binary) has no Debian package and no npm package here, so there is no anchor
 * line; the goals (≤ 1.0 s first run, ≤ 0.3 s cached, ≤ 300 MiB) stand alone.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { inputsDigest, writeExport } from './data/osv-export.ts'
import {
  benchCacheDir,
  detbuildCli,
  goal,
  header,
  type Measure,
  report,
  roundsNote,
  run,
  runsFromEnv,
  sideBySide,
} from './lib.ts'

/** bump when the generated data changes */
const GENERATOR = 3

interface Config {
  key: string
  components: number
  records: number
  goals: boolean
}
const CONFIGS: Config[] = [
  { key: '200k', components: 1864, records: 200_000, goals: true },
  { key: '50k', components: 1200, records: 50_000, goals: false },
]

if (process.argv[2] === '--generate') {
  await writeExport(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]))
} else {
  await main()
}

/** The data folder, named by what it holds: parameters, generator version, inputs. */
function dataDir(c: Config): string {
  const h = createHash('sha256').update(`${GENERATOR}\0${c.components}\0${c.records}\0${inputsDigest()}`)
  return path.join(benchCacheDir(), `scan-${c.components}x${c.records}-${h.digest('hex').slice(0, 16)}`)
}

function ensureData(c: Config): string {
  const data = dataDir(c)
  if (existsSync(path.join(data, 'sbom.json'))) return data
  console.log(`generating ${c.records} OSV records and a ${c.components}-component SBOM into ${data} (once)`)
  const tmp = `${data}.${process.pid}.tmp`
  rmSync(tmp, { recursive: true, force: true })
  run(
    [
      process.execPath,
      '--max-old-space-size=4096',
      fileURLToPath(import.meta.url),
      '--generate',
      tmp,
      `${c.components}`,
      `${c.records}`,
    ],
    process.cwd(),
  )
  rmSync(data, { recursive: true, force: true })
  renameSync(tmp, data)
  return data
}

function osvScannerNote(): string {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)
  const found = dirs.map((d) => path.join(d, 'osv-scanner')).find((f) => existsSync(f))
  if (found) {
    return `osv-scanner found at ${found} but not wired as an anchor (its offline mode reads its own database layout): detbuild-only lines`
  }
  return 'anchor: osv-scanner is not available here (no Debian package, no npm package; it ships as a Go binary from github.com/google/osv-scanner releases): detbuild-only lines'
}

async function main(): Promise<void> {
  const only = (process.env.BENCH_SCAN_SIZES ?? '').split(',').filter(Boolean)
  for (const o of only) {
    if (!CONFIGS.some((c) => c.key === o))
      throw new Error(`BENCH_SCAN_SIZES: unknown size '${o}' (${CONFIGS.map((c) => c.key).join(', ')})`)
  }
  const runs = runsFromEnv(5)
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'detbuild-bench-scan-'))
  try {
    header('Offline scan: detbuild scan --offline-db')
    console.log(osvScannerNote())
    for (const c of CONFIGS.filter((x) => only.length === 0 || only.includes(x.key))) {
      const data = ensureData(c)
      const out = path.join(scratch, c.key)
      const scan = [...detbuildCli(), 'scan', '--sbom', 'sbom.json', '--offline-db', 'all.zip', '--quiet']
      const cacheDir = path.join(out, 'cache')
      const measures = sideBySide(
        [
          {
            name: 'detbuild scan, first run (--no-cache)',
            cmd: [...scan, '--no-osv-cache', '--out', path.join(out, 'a')],
            cwd: data,
          },
          {
            name: 'detbuild scan, index cache warm',
            cmd: [...scan, '--cache-dir', cacheDir, '--out', path.join(out, 'b')],
            cwd: data,
          },
        ],
        { runs },
      )
      const a = readFileSync(path.join(out, 'a', 'vulns.json'))
      const b = readFileSync(path.join(out, 'b', 'vulns.json'))
      if (!a.equals(b)) throw new Error('the cached scan gave a different vulns.json')
      const v = JSON.parse(a.toString('utf8')) as { findings: unknown[]; complete: boolean }
      report(
        `Offline scan: ${c.components} components × ${c.records} OSV records (${roundsNote(runs)})`,
        measures,
      )
      console.log(
        `findings: ${v.findings.length}, complete: ${v.complete}, same vulns.json with and without the cache`,
      )
      if (c.goals) {
        const [first, cached] = measures as [Measure, Measure]
        console.log(goal('first run', first.wallMs, 1000, 'ms'))
        console.log(goal('cached', cached.wallMs, 300, 'ms'))
        const peak = Math.max(first.peakMiB ?? Number.NaN, cached.peakMiB ?? Number.NaN)
        console.log(Number.isNaN(peak) ? 'peak RSS: n/a (no GNU time)' : goal('peak RSS', peak, 300, 'MiB'))
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
}
