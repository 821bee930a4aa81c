/**
 * An OSV export shaped like the real npm `all.zip` (https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip):
 * one pretty-printed JSON file per record at the top of a deflate ZIP (ZIP64 past 65,535 entries), most of them
 * MAL- records of malicious packages (as in the real database, from ossf/malicious-packages: `versions` lists or
 * an `introduced: 0` range, `database_specific.malicious-packages-origins`, CWE-506), the rest GHSA- advisories
 * with CVE aliases, CVSS v3/v4 `severity`, 1–3 `affected` entries with ECOSYSTEM ranges (introduced/fixed or
 * last_affected events, `database_specific.last_known_affected_version_range`), references and
 * `database_specific` (cwe_ids, severity, github_reviewed…), with `details` taken from the real fixture records
 * (fixtures/osv/records, which are included unchanged). Only `matchShare` of the records (a few %) name one of
 * the SBOM's packages; about a third of those cover the SBOM's version (findings), the others do not.
 *
 * The SBOM's components are real name@version pairs taken from the fixtures' lockfiles (1,677 of them; past
 * that, the same names at a later patch version). Deterministic: a seeded
 * generator, no clock.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { loadRecords } from '../../test/helpers/osv-server.ts'
import { makeSbom, makeZip } from '../../test/scan/helpers.ts'
import { repoRoot } from '../lib.ts'

const recordsDir = path.join(repoRoot, 'fixtures', 'osv', 'records')
const LOCKFILES = [
  'fixtures/large-app/package-lock.json',
  'package-lock.json',
  'bench/fixtures/no-resolved-app/package-lock.json',
  'fixtures/vulnerable-app/package-lock.json',
]

/** mulberry32: a small seeded PRNG, so the export is the same on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const GHSA_CHARS = '23456789cfghjmpqrvwx'
const WORDS =
  'react vue node express lodash axios color string parse json config util core web api http fast tiny micro async stream path file data cli test mock log event cache auth token crypto hash date time image buffer net url query form style theme icon ui chart grid table'.split(
    ' ',
  )

/** Every real name@version of the fixtures' lockfiles, sorted, deduplicated. */
export function realPackages(): Array<{ name: string; version: string }> {
  const seen = new Map<string, { name: string; version: string }>()
  for (const file of LOCKFILES) {
    const lock = JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8')) as {
      packages: Record<string, { name?: string; version?: string; link?: boolean }>
    }
    for (const [key, e] of Object.entries(lock.packages)) {
      if (!key.includes('node_modules/') || e.link || !e.version) continue
      const name = e.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)
      seen.set(`${name}@${e.version}`, { name, version: e.version })
    }
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p)
}

/** The inputs' fingerprint: what makes a cached export stale. */
export function inputsDigest(): string {
  const h = createHash('sha256')
  for (const f of LOCKFILES) h.update(f).update(readFileSync(path.join(repoRoot, f)))
  for (const r of loadRecords(recordsDir)) h.update(JSON.stringify(r))
  return h.digest('hex')
}

function bump(version: string, up: boolean): { introduced: string; fixed: string } | null {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version)
  if (!m) return null
  const [maj, min, pat] = [Number(m[1]), Number(m[2]), Number(m[3])]
  return up
    ? { introduced: maj > 0 ? `${maj}.0.0` : '0', fixed: `${maj}.${min}.${pat + 1}` }
    : { introduced: `${maj + 1}.0.0`, fixed: `${maj + 1}.${min + 1}.0` }
}

/** Writes all.zip (`total` records) and sbom.json (`components` components) into `dir`. */
export async function writeExport(
  dir: string,
  components: number,
  total: number,
  matchShare = 0.03,
): Promise<void> {
  const rand = prng(0x05f1)
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!
  const hex = (n: number): string => {
    let s = ''
    while (s.length < n)
      s += Math.floor(rand() * 2 ** 32)
        .toString(16)
        .padStart(8, '0')
    return s.slice(0, n)
  }
  const real = loadRecords(recordsDir)
  const details = real.map((r) => (r as { details?: string }).details ?? '').filter((d) => d.length > 0)

  // real name@version pairs; past their number, the same names at the next patch version
  const all = realPackages()
  const step = Math.max(1, all.length / components)
  const sbomPkgs = Array.from(
    { length: Math.min(components, all.length) },
    (_, i) => all[Math.floor(i * step)]!,
  )
  const keys = new Set(sbomPkgs.map((p) => `${p.name}@${p.version}`))
  for (let i = 0; sbomPkgs.length < components && i < all.length * 10; i++) {
    const p = all[i % all.length]!
    const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(p.version)
    if (!m) continue
    const version = `${m[1]}.${m[2]}.${Number(m[3]) + 1 + Math.floor(i / all.length)}`
    if (keys.has(`${p.name}@${version}`)) continue
    keys.add(`${p.name}@${version}`)
    sbomPkgs.push({ name: p.name, version })
  }
  if (sbomPkgs.length < components) throw new Error(`could not make ${components} components`)

  const ghsaId = (i: number): string => {
    const c = (k: number) => GHSA_CHARS[Math.floor(i / GHSA_CHARS.length ** k) % GHSA_CHARS.length]
    const r = () => GHSA_CHARS[Math.floor(rand() * GHSA_CHARS.length)]
    return `GHSA-${c(0)}${c(1)}${c(2)}${c(3)}-${c(4)}${r()}${r()}${r()}-${r()}${r()}${r()}${r()}`
  }
  const otherName = (i: number): string => {
    const base = `${pick(WORDS)}-${pick(WORDS)}-${i.toString(36)}`
    return rand() < 0.15 ? `@${pick(WORDS)}${i % 97}/${base}` : base
  }
  const date = (i: number): string =>
    new Date(Date.UTC(2019 + (i % 6), i % 12, 1 + (i % 28), i % 24, i % 60, i % 60))
      .toISOString()
      .replace('.000', '')

  const ghsa = (i: number, name: string, version: string | null, hit: boolean): Record<string, unknown> => {
    const id = ghsaId(i)
    const cve = `CVE-${2019 + (i % 6)}-${10000 + (i % 50000)}`
    const range = version ? bump(version, hit) : null
    const affected = [
      {
        package: { ecosystem: 'npm', name },
        ranges: [
          {
            type: 'ECOSYSTEM',
            events:
              range && rand() < 0.85
                ? [{ introduced: range.introduced }, { fixed: range.fixed }]
                : [{ introduced: '0' }, { last_affected: range ? range.introduced : `${i % 9}.${i % 7}.0` }],
          },
        ],
        ...(rand() < 0.3
          ? { database_specific: { last_known_affected_version_range: `< ${range?.fixed ?? '1.0.0'}` } }
          : {}),
      },
      ...(rand() < 0.2
        ? [
            {
              package: { ecosystem: 'npm', name: otherName(i + 1) },
              ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: `${i % 5}.0.1` }] }],
            },
          ]
        : []),
    ]
    const sev = pick(['LOW', 'MODERATE', 'HIGH', 'CRITICAL'])
    return {
      schema_version: '1.4.0',
      id,
      modified: date(i + 7),
      published: date(i),
      aliases: rand() < 0.9 ? [cve] : [],
      summary: `${pick(['Prototype Pollution', 'Regular Expression Denial of Service', 'Path Traversal', 'Cross-site Scripting', 'Command Injection', 'Improper Input Validation'])} in ${name}`,
      details: pick(details),
      severity:
        rand() < 0.1
          ? []
          : [
              { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
              ...(rand() < 0.3
                ? [
                    {
                      type: 'CVSS_V4',
                      score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
                    },
                  ]
                : []),
            ],
      affected,
      references: [
        { type: 'ADVISORY', url: `https://nvd.nist.gov/vuln/detail/${cve}` },
        { type: 'WEB', url: `https://github.com/${pick(WORDS)}/${name.replace('/', '-')}/commit/${hex(40)}` },
        { type: 'ADVISORY', url: `https://github.com/advisories/${id}` },
        { type: 'PACKAGE', url: `https://github.com/${pick(WORDS)}/${name.replace('/', '-')}` },
      ],
      database_specific: {
        cwe_ids: [pick(['CWE-1321', 'CWE-1333', 'CWE-22', 'CWE-79', 'CWE-78', 'CWE-20'])],
        severity: sev,
        github_reviewed: true,
        github_reviewed_at: date(i + 3),
        nvd_published_at: rand() < 0.8 ? date(i + 1) : null,
      },
    }
  }

  const mal = (i: number, name: string, version: string | null, hit: boolean): Record<string, unknown> => {
    const versions = version && hit ? [version] : [`${i % 4}.0.${i % 9}`, `${i % 4}.0.${(i % 9) + 1}`]
    const allVersions = rand() < 0.4 && !version
    const source = pick(['ghsa-malware', 'ossf-package-analysis', 'socketdev', 'phylum'])
    return {
      modified: date(i + 2),
      published: date(i),
      schema_version: '1.5.0',
      id: `MAL-${2022 + (i % 4)}-${i}`,
      summary: `Malicious code in ${name} (npm)`,
      details: `\n---\n_-= Per source details. Do not edit below this line.=-_\n\n## Source: ${source} (${hex(64)})\nAny computer that has this package installed or running should be considered fully compromised. All secrets and keys stored on that computer should be rotated immediately from a different computer. The package should be removed, but as full control of the computer may have been given to an outside entity, there is no guarantee that removing the package will remove all malicious software resulting from installing it.\n`,
      affected: [
        {
          package: { ecosystem: 'npm', name },
          ...(allVersions ? { ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] } : { versions }),
          database_specific: {
            cwes: [
              {
                cweId: 'CWE-506',
                description: 'The product contains code that appears to be malicious in nature.',
                name: 'Embedded Malicious Code',
              },
            ],
          },
        },
      ],
      ...(rand() < 0.5 ? { aliases: [ghsaId(i + 7_000_000)] } : {}),
      database_specific: {
        'malicious-packages-origins': [
          { source, sha256: hex(64), import_time: date(i + 4), modified_time: date(i + 2), versions },
        ],
      },
    }
  }

  const entries: Array<{ name: string; data: string }> = real.map((r) => ({
    name: `${(r as { id: string }).id}.json`,
    data: `${JSON.stringify(r, null, 2)}\n`,
  }))
  const names = new Set(entries.map((e) => e.name))
  for (let i = 0; entries.length < total; i++) {
    const matches = rand() < matchShare
    const p = matches ? pick(sbomPkgs) : null
    const hit = rand() < 0.35
    const isMal = matches ? rand() < 0.1 : rand() < 0.88
    const name = p ? p.name : otherName(i)
    const r = isMal ? mal(i, name, p?.version ?? null, hit) : ghsa(i, name, p?.version ?? null, hit)
    const file = `${r.id as string}.json`
    if (names.has(file)) continue
    names.add(file)
    entries.push({ name: file, data: `${JSON.stringify(r, null, 2)}\n` })
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'all.zip'), makeZip(entries))
  const sbom = makeSbom(
    sbomPkgs,
    sbomPkgs.map((p) => `${p.name}@${p.version}`),
  )
  writeFileSync(path.join(dir, 'sbom.json'), `${JSON.stringify(sbom, null, 2)}\n`)
}
