/**
 * Benchmark: offline matching of a 1,000+ component SBOM against an OSV export of 50,000+ records
 * (the real fixture records plus generated ones), written as a ZIP in a temp dir at bench time.
 * Prints wall time and peak RSS. Run: node bench/scan.ts [components] [records]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { runScan } from '../src/scan/index.ts'
import { silentLogger } from '../src/util/log.ts'
import { loadRecords } from '../test/helpers/osv-server.ts'
import { makeSbom, makeZip, recordsDir } from '../test/scan/helpers.ts'

const components = Number(process.argv[2] ?? 1200)
const total = Number(process.argv[3] ?? 50_000)

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

const dir = await mkdtemp(path.join(os.tmpdir(), 'detbuild-bench-scan-'))
try {
  const real = loadRecords(recordsDir)
  const entries = real.map((r) => ({ name: `${r.id}.json`, data: JSON.stringify(r) }))
  for (let i = entries.length; i < total; i++)
    entries.push({ name: `BENCH-${i}.json`, data: JSON.stringify(generated(i)) })
  await writeFile(path.join(dir, 'all.zip'), makeZip(entries))
  entries.length = 0

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
  global.gc?.()

  let peak = process.memoryUsage().rss
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 5)
  const t0 = performance.now()
  const result = await runScan({
    cwd: dir,
    out: path.join(dir, 'out'),
    sbom: 'sbom.json',
    offlineDb: 'all.zip',
    cacheDir: null,
    failOn: null,
    omitDev: false,
    env: { SOURCE_DATE_EPOCH: '1700000000' },
    now: new Date(),
    log: silentLogger,
  })
  const ms = performance.now() - t0
  clearInterval(timer)
  peak = Math.max(peak, process.memoryUsage().rss)
  console.log(
    JSON.stringify({
      bench: 'scan-offline',
      components: pkgs.length,
      records: total,
      findings: result.report.findings.length,
      complete: result.report.complete,
      wallMs: Math.round(ms),
      peakRssMiB: Math.round(peak / 2 ** 20),
    }),
  )
} finally {
  await rm(dir, { recursive: true, force: true })
}
