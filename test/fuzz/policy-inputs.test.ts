/**
 * Fuzz: what `policy` reads — the policy file (YAML or JSON), VEX documents (OpenVEX, CycloneDX VEX) and
 * the workspace files it judges (SBOM, vulns.json, build.json, signatures.json) — structurally mutated.
 * Exit 0–3 only, never a stack trace.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import fc from 'fast-check'
import YAML from 'yaml'
import { check, fixture, ROOT, runChecked, scratch } from './harness.ts'
import {
  documentMutation,
  type Json,
  jsonMutation,
  mutateDocument,
  mutateJson,
  mutateYamlText,
  toJsonText,
  toYamlText,
  yamlExtra,
} from './mutate.ts'

const work = scratch()
after(() => work.dispose())
const ws = path.join(work.dir, 'ws')
cpSync(fixture('policy', 'good'), ws, { recursive: true })

test('policy files (YAML and JSON), mutated: policy exits 0–3 without a stack trace', async () => {
  const seeds = ['default', 'strict', 'permissive-licenses'].map(
    (n) => YAML.parse(readFileSync(path.join(ROOT, 'policies', `${n}.yaml`), 'utf8')) as Json,
  )
  const arb = fc.tuple(fc.nat(), fc.boolean(), documentMutation, yamlExtra)
  await check(80, arb, async ([pick, asJson, m, extra]) => {
    const seed = seeds[pick % seeds.length]!
    let mutated = mutateDocument(seed, m, asJson ? toJsonText : toYamlText)
    if (!asJson) {
      const y = mutateYamlText(mutated.text, extra)
      mutated = { text: y.text, description: [mutated.description, y.description].filter(Boolean).join('; ') }
    }
    const name = asJson ? 'fuzz.policy.json' : 'fuzz.policy.yaml'
    writeFileSync(path.join(work.dir, name), mutated.text)
    await runChecked(
      ['--json', 'policy', '--policy', name, '--out', 'ws'],
      work.dir,
      `${name} (from policy #${pick % seeds.length}): ${mutated.description}`,
    )
  })
})

test('VEX documents (OpenVEX, CycloneDX VEX), mutated: policy --vex exits 0–3 without a stack trace', async () => {
  const names = ['openvex.json', 'cyclonedx-vex.json', 'expiring-cyclonedx-vex.json']
  const seeds = names.map((n) => readFileSync(fixture('policy', 'vex', n), 'utf8'))
  await check(80, fc.tuple(fc.nat(), jsonMutation), async ([pick, m]) => {
    const mutated = mutateJson(seeds[pick % seeds.length]!, m)
    writeFileSync(path.join(work.dir, 'fuzz.vex.json'), mutated.text)
    await runChecked(
      ['--json', 'policy', '--vex', 'fuzz.vex.json', '--out', 'ws'],
      work.dir,
      `fuzz.vex.json (from ${names[pick % names.length]}): ${mutated.description}`,
    )
  })
})

test('the files policy judges (SBOM, vulns.json, build.json, signatures.json), mutated: exit 0–3, no trace', async () => {
  const files = ['sbom.cdx.json', 'vulns.json', 'build.json', 'signatures.json']
  const originals = new Map(files.map((f) => [f, readFileSync(path.join(ws, f), 'utf8')]))
  await check(100, fc.tuple(fc.nat(), jsonMutation), async ([pick, m]) => {
    const file = files[pick % files.length]!
    const mutated = mutateJson(originals.get(file)!, m)
    writeFileSync(path.join(ws, file), mutated.text)
    try {
      await runChecked(['--json', 'policy', '--out', 'ws'], work.dir, `ws/${file}: ${mutated.description}`)
    } finally {
      writeFileSync(path.join(ws, file), originals.get(file)!)
    }
  })
})
