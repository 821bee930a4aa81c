/**
 * Fuzz: lockfiles (v1, v2, v3) and package.json, structurally mutated, through `sbom` (which reads the
 * tree) and `scan` (which reads the lockfile for locations and fix advice). Exit 0–3, never a trace.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { check, fixture, OSV_RECORDS, runChecked, scratch } from './harness.ts'
import { type JsonMutation, jsonMutation, mutateJson } from './mutate.ts'

const projects: Array<{ dispose: () => void }> = []
after(() => {
  for (const p of projects) p.dispose()
})

/** A project copy whose SBOM exists (scan reads it beside the lockfile). */
let v3: string
let v1: string
let sbomFile: string

const lockV3 = readFileSync(fixture('small-app', 'package-lock.json'), 'utf8')
const lockV1 = readFileSync(fixture('lockfile-v1', 'package-lock.json'), 'utf8')
// v2 carries both `packages` and the v1 `dependencies`: the same tree, declared as version 2
const lockV2 = (() => {
  const doc = JSON.parse(lockV3) as Record<string, unknown>
  doc.lockfileVersion = 2
  doc.dependencies = (JSON.parse(lockV1) as { dependencies?: unknown }).dependencies ?? {}
  return `${JSON.stringify(doc, null, 2)}\n`
})()
const manifestV3 = readFileSync(fixture('small-app', 'package.json'), 'utf8')

before(async () => {
  const a = scratch(fixture('small-app'))
  const b = scratch(fixture('lockfile-v1'))
  projects.push(a, b)
  v3 = a.dir
  v1 = b.dir
  const made = await runChecked(['sbom', '--no-validate', '--out', 'ws-sbom'], v3, 'none (setup)')
  if (made.code !== 0) throw new Error(`setup: sbom exited ${made.code}: ${made.stderr}`)
  sbomFile = path.join(v3, 'ws-sbom', 'sbom.cdx.json')
})

type Step = 'sbom' | 'scan'
const command = fc.constantFrom<Step>('sbom', 'sbom', 'scan')

function argv(step: Step): string[] {
  return step === 'sbom'
    ? ['--json', 'sbom', '--no-validate']
    : ['--json', 'scan', '--sbom', sbomFile, '--offline-db', OSV_RECORDS, '--no-cache']
}

async function fuzzFile(
  dir: string,
  file: string,
  original: string,
  restore: Record<string, string>,
  ciRuns: number,
): Promise<void> {
  await check(ciRuns, fc.tuple(jsonMutation, command), async ([m, step]: [JsonMutation, Step]) => {
    const mutated = mutateJson(original, m)
    for (const [f, text] of Object.entries(restore)) writeFileSync(path.join(dir, f), text)
    writeFileSync(path.join(dir, file), mutated.text)
    await runChecked(argv(step), dir, `${file}: ${mutated.description}`)
  })
}

test('package-lock.json v3, mutated: sbom and scan exit 0–3 without a stack trace', async () => {
  await fuzzFile(v3, 'package-lock.json', lockV3, { 'package.json': manifestV3 }, 70)
})

test('package-lock.json v2, mutated: sbom and scan exit 0–3 without a stack trace', async () => {
  await fuzzFile(v3, 'package-lock.json', lockV2, { 'package.json': manifestV3 }, 50)
})

test('package-lock.json v1, mutated: sbom and scan exit 0–3 without a stack trace', async () => {
  const manifest = readFileSync(path.join(v1, 'package.json'), 'utf8')
  await fuzzFile(v1, 'package-lock.json', lockV1, { 'package.json': manifest }, 60)
})

test('package.json, mutated: sbom and scan exit 0–3 without a stack trace', async () => {
  await fuzzFile(v3, 'package.json', manifestV3, { 'package-lock.json': lockV3 }, 30)
})
