/** Test helpers for scanning Go components: a Go SBOM, the Go OSV fixtures, an export ZIP of them. */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { ScanOptions } from '../../src/scan/index.ts'
import type { OsvRecord } from '../../src/scan/types.ts'
import { silentLogger } from '../../src/util/log.ts'
import { makeZip, repoRoot } from './helpers.ts'

export const goRecordsDir = path.join(repoRoot, 'test/fixtures/osv/go/records')

export function goRecords(): OsvRecord[] {
  return readdirSync(goRecordsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(goRecordsDir, f), 'utf8')) as OsvRecord)
}

/** The fixtures as osv.dev lays out an ecosystem's export: `all.zip` of `<id>.json`. */
export function goExportZip(): Buffer {
  return makeZip(
    readdirSync(goRecordsDir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => ({ name: f, data: readFileSync(path.join(goRecordsDir, f)) })),
  )
}

export interface GoPkg {
  /** module path, or `stdlib` */
  name: string
  version: string
  properties?: Record<string, string>
}

export function goPurl(name: string, version: string): string {
  const v = name === 'stdlib' ? version.replace(/^go/, '') : version
  return `pkg:golang/${name}@${v}`
}

/** A CycloneDX 1.6 SBOM of a Go main module and its modules (all direct), as detbuild writes one. */
export function makeGoSbom(pkgs: GoPkg[], main = 'example.com/app'): Record<string, unknown> {
  const rootRef = `pkg:golang/${main}@v0.0.0`
  const refs = pkgs.map((p) => goPurl(p.name, p.version))
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    metadata: {
      component: { type: 'application', 'bom-ref': rootRef, name: main, version: 'v0.0.0', purl: rootRef },
    },
    components: pkgs.map((p, i) => {
      const slash = p.name.lastIndexOf('/')
      return {
        type: 'library',
        'bom-ref': refs[i],
        ...(slash > 0 ? { group: p.name.slice(0, slash), name: p.name.slice(slash + 1) } : { name: p.name }),
        version: p.version,
        purl: refs[i],
        properties: Object.entries(p.properties ?? {}).map(([name, value]) => ({ name, value })),
      }
    }),
    dependencies: [{ ref: rootRef, dependsOn: refs }, ...refs.map((ref) => ({ ref, dependsOn: [] }))],
  }
}

export function goScanOptions(dir: string, extra: Partial<ScanOptions> = {}): ScanOptions {
  return {
    cwd: dir,
    out: path.join(dir, 'out'),
    sbom: 'sbom.json',
    cacheDir: null,
    failOn: null,
    omitDev: false,
    env: { SOURCE_DATE_EPOCH: '1700000000' },
    sourceDateEpoch: 1700000000,
    repositoryPath: '',
    now: new Date('2026-01-01T00:00:00Z'),
    log: silentLogger,
    ...extra,
  }
}
