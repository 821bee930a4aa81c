/**
 * Fuzz: what `scan` reads — the CycloneDX SBOM, the OSV records of an offline folder export, and the
 * ignore files (detbuild.ignore.json / .yaml, osv-scanner.toml) — structurally mutated. Exit 0–3 only:
 * a record or SBOM that cannot be read is bad input (2) or an unchecked package (3), never a crash.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import fc from 'fast-check'
import { parse as parseToml } from 'smol-toml'
import { check, OSV_RECORDS, ROOT, runChecked, scratch } from './harness.ts'
import {
  documentMutation,
  type Json,
  type JsonMutation,
  jsonMutation,
  mutateDocument,
  mutateJson,
  mutateYamlText,
  toJsonText,
  toTomlText,
  toYamlText,
  yamlExtra,
} from './mutate.ts'

const work = scratch()
after(() => work.dispose())

/** An SBOM with findings in the bundled records (minimist, lodash, …). */
const VULNERABLE_SBOM = path.join(ROOT, 'test', 'scan', 'fixtures', 'vulnerable-app.cdx.json')
const sbomText = readFileSync(VULNERABLE_SBOM, 'utf8')

test('SBOM for scan, mutated: scan exits 0–3 without a stack trace', async () => {
  const file = path.join(work.dir, 'scan-input.cdx.json')
  await check(80, jsonMutation, async (m: JsonMutation) => {
    const mutated = mutateJson(sbomText, m)
    writeFileSync(file, mutated.text)
    await runChecked(
      ['--json', 'scan', '--sbom', file, '--offline-db', OSV_RECORDS, '--no-cache', '--out', 'ws-scan'],
      work.dir,
      `scan-input.cdx.json: ${mutated.description}`,
    )
  })
})

test('an OSV record of an offline folder export, mutated: scan exits 0–3 without a stack trace', async () => {
  const db = path.join(work.dir, 'osv-export')
  cpSync(OSV_RECORDS, db, { recursive: true })
  const names = readdirSync(db)
    .filter((n) => n.endsWith('.json'))
    .sort()
  const originals = new Map(names.map((n) => [n, readFileSync(path.join(db, n), 'utf8')]))
  await check(60, fc.tuple(fc.nat(), jsonMutation), async ([pick, m]: [number, JsonMutation]) => {
    const name = names[pick % names.length]!
    const mutated = mutateJson(originals.get(name)!, m)
    writeFileSync(path.join(db, name), mutated.text)
    try {
      await runChecked(
        ['--json', 'scan', '--sbom', VULNERABLE_SBOM, '--offline-db', db, '--no-cache', '--out', 'ws-osv'],
        work.dir,
        `osv-export/${name}: ${mutated.description}`,
      )
    } finally {
      writeFileSync(path.join(db, name), originals.get(name)!)
    }
  })
})

const IGNORE_JSON = {
  ignore: [
    {
      id: 'GHSA-xvch-5gv4-984h',
      reason: 'only parses our own CLI flags',
      ignoreUntil: '2027-01-01',
      package: 'minimist',
    },
    { id: 'CVE-2021-23337', reason: 'template() unused', ignoreUntil: '2026-01-01T00:00:00Z' },
  ],
}
const OSV_SCANNER_TOML =
  '[[IgnoredVulns]]\nid = "CVE-2021-23337"\nignoreUntil = 2027-06-01\nreason = "template() unused"\n\n' +
  '[[IgnoredVulns]]\nid = "GHSA-29mw-wpgm-hmr9"\nreason = "no untrusted strings"\n\n' +
  '[[PackageOverrides]]\nname = "lodash"\necosystem = "npm"\nignore = true\nreason = "vendored"\n'

type IgnoreFormat = 'json' | 'yaml' | 'toml'

test('ignore files (detbuild.ignore.json / .yaml, osv-scanner.toml), mutated: scan exits 0–3 without a stack trace', async () => {
  const seeds: Record<IgnoreFormat, { name: string; doc: Json }> = {
    json: { name: 'detbuild.ignore.json', doc: IGNORE_JSON as unknown as Json },
    yaml: { name: 'detbuild.ignore.yaml', doc: IGNORE_JSON as unknown as Json },
    toml: { name: 'osv-scanner.toml', doc: JSON.parse(JSON.stringify(parseToml(OSV_SCANNER_TOML))) as Json },
  }
  const arb = fc.tuple(fc.constantFrom<IgnoreFormat>('json', 'yaml', 'toml'), documentMutation, yamlExtra)
  await check(100, arb, async ([format, m, extra]) => {
    const seed = seeds[format]
    const serialize = format === 'json' ? toJsonText : format === 'yaml' ? toYamlText : toTomlText
    let mutated = mutateDocument(seed.doc, m, serialize)
    if (format === 'yaml') {
      const y = mutateYamlText(mutated.text, extra)
      mutated = { text: y.text, description: [mutated.description, y.description].filter(Boolean).join('; ') }
    }
    const file = path.join(work.dir, seed.name)
    writeFileSync(file, mutated.text)
    await runChecked(
      [
        '--json',
        'scan',
        '--sbom',
        VULNERABLE_SBOM,
        '--offline-db',
        OSV_RECORDS,
        '--no-cache',
        '--ignore-file',
        seed.name,
        '--out',
        'ws-ignore',
      ],
      work.dir,
      `${seed.name}: ${mutated.description}`,
    )
  })
})
