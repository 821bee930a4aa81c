/**
 * Workspaces for the report tests, made in temporary folders: the golden workspace (test/golden/files/
 * workspace: every step's real output for fixtures/vulnerable-app), a partial one (an SBOM only), and a
 * hostile one (the golden files with markup, quotes, ampersands and unicode in every string the page
 * shows, each still valid against its schema).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { repoRoot } from '../helpers/paths.ts'

export const GOLDEN = path.join(repoRoot, 'test', 'golden', 'files', 'workspace')

/** A project folder with a workspace `.detbuild/` holding `files` of the golden workspace. */
export function makeWorkspace(files: 'all' | string[] = 'all'): {
  project: string
  out: string
  done: () => void
} {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-report-'))
  const project = path.join(dir, 'project')
  const out = path.join(project, '.detbuild')
  mkdirSync(project)
  if (files === 'all') cpSync(GOLDEN, out, { recursive: true })
  else {
    mkdirSync(out)
    for (const f of files) cpSync(path.join(GOLDEN, f), path.join(out, f), { recursive: true })
  }
  return { project, out, done: () => rmSync(dir, { recursive: true, force: true }) }
}

export const readJson = (file: string): Record<string, any> => JSON.parse(readFileSync(file, 'utf8'))
export const writeJson = (file: string, value: unknown): void =>
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`)

/** The strings the hostile workspace plants: each must appear as text, none may act as markup. */
export const HOSTILE = {
  script: '<script>window.__pwned = 1</script>',
  attr: '"><img src=x onerror="window.__pwned = 2">',
  style: '</style><style>body{display:none}</style>',
  amp: 'Tom & Jerry &amp; &lt;b&gt; ü 漢字 🚀 \u202egnp.exe',
  quote: 'it\'s "quoted" \' "',
  link: 'javascript:window.__pwned=3',
} as const

/** The golden workspace with HOSTILE strings in names, versions, summaries, paths, licences and messages. */
export function makeHostileWorkspace(): { project: string; out: string; done: () => void } {
  const ws = makeWorkspace('all')
  const sbomFile = path.join(ws.out, 'sbom.cdx.json')
  const sbom = readJson(sbomFile)
  const [lodash, minimist] = sbom.components
  lodash.name = HOSTILE.script
  lodash.licenses = [{ license: { name: HOSTILE.style } }]
  minimist.version = HOSTILE.attr
  minimist.licenses = [{ expression: HOSTILE.amp }]
  sbom.metadata.component.name = HOSTILE.quote
  sbom.components.push({
    type: 'library',
    name: HOSTILE.link,
    version: '1.0.0',
    'bom-ref': HOSTILE.attr,
    purl: `pkg:npm/${encodeURIComponent(HOSTILE.script)}@1.0.0`,
  })
  sbom.dependencies.push({ ref: HOSTILE.attr, dependsOn: [] })
  sbom.dependencies.find((d: { ref: string }) => d.ref === minimist['bom-ref']).dependsOn = [HOSTILE.attr]
  writeJson(sbomFile, sbom)

  const vulnsFile = path.join(ws.out, 'vulns.json')
  const vulns = readJson(vulnsFile)
  const f = vulns.findings[0]
  f.summary = `${HOSTILE.script} ${HOSTILE.amp}`
  f.name = HOSTILE.attr
  f.paths = [[HOSTILE.quote, HOSTILE.script, HOSTILE.attr]]
  f.upgrade = [{ name: HOSTILE.script, version: HOSTILE.amp, to: HOSTILE.attr, major: true }]
  f.aliases = [HOSTILE.link]
  writeJson(vulnsFile, vulns)

  const policyFile = path.join(ws.out, 'policy.json')
  const policy = readJson(policyFile)
  policy.rules[0].evidence.violations[0].message = HOSTILE.script
  policy.rules[0].evidence.violations[0].purl = HOSTILE.attr
  policy.rules[0].title = HOSTILE.style
  writeJson(policyFile, policy)

  const sigFile = path.join(ws.out, 'signatures.json')
  const sigs = readJson(sigFile)
  sigs.bundles[0].signer = { type: 'keyless', identity: HOSTILE.script, issuer: HOSTILE.attr }
  writeJson(sigFile, sigs)
  return ws
}
