import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { main } from '../../src/cli/main.ts'
import { evaluatePolicy } from '../../src/policy/evaluate.ts'
import { signatureTrust } from '../../src/policy/signature-trust.ts'
import type {
  Policy,
  PolicyInputs,
  PolicyResult,
  RuleResult,
  SignatureTrust,
} from '../../src/policy/types.ts'
import { loadTrust } from '../../src/verify/trust.ts'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const FIXTURES = path.join(ROOT, 'fixtures', 'policy')
/** The test-only key that signed the good workspace's bundles (see fixtures/policy/make-fixtures.ts). */
export const KEYS = path.join(FIXTURES, 'keys')
/** `detbuild policy` flags that verify the good workspace's key-signed bundles offline. */
export const KEY_FLAGS = [
  '--key',
  path.join(KEYS, 'signing.pub'),
  '--insecure-ignore-tlog',
  '--trusted-root',
  path.join(KEYS, 'empty-trusted-root.json'),
]

/** The verifier for the good workspace's bundles: `public key file` (default: the signing key). */
export async function keyTrust(publicKey = 'signing.pub'): Promise<SignatureTrust> {
  const trust = await loadTrust(
    {
      key: path.join(KEYS, publicKey),
      insecureIgnoreTlog: true,
      trustedRoot: path.join(KEYS, 'empty-trusted-root.json'),
    },
    ROOT,
  )
  return signatureTrust(trust.request)
}

/** The fixed clock every test uses. */
export const NOW = new Date('2025-06-01T12:00:00Z')

export const file = (name: string) => ({ file: name, sha256: 'f'.repeat(64) })

type Obj = Record<string, unknown>

/** A component with everything NTIA wants, overridable. */
export function component(purl: string, extra: Obj = {}): Obj {
  const m = /^pkg:npm\/(.+)@([^@?]+)/.exec(purl)
  return {
    type: 'library',
    'bom-ref': purl,
    name: m ? decodeURIComponent(m[1]!) : purl,
    version: m ? m[2] : '1.0.0',
    purl,
    supplier: { name: 'someone' },
    hashes: [{ alg: 'SHA-512', content: 'ab' }],
    licenses: [{ license: { id: 'MIT' } }],
    ...extra,
  }
}

export function sbom(components: Obj[], extra: Obj = {}): Obj {
  const root = 'pkg:npm/app@1.0.0'
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    metadata: {
      timestamp: '2025-01-01T00:00:00Z',
      tools: { components: [{ name: 'detbuild', version: '0.1.0' }] },
      component: {
        type: 'application',
        'bom-ref': root,
        name: 'app',
        version: '1.0.0',
        purl: root,
        supplier: { name: 'us' },
      },
    },
    components,
    dependencies: [
      { ref: root, dependsOn: components.map((c) => c['bom-ref'] as string) },
      ...components.map((c) => ({ ref: c['bom-ref'] as string, dependsOn: [] })),
    ],
    ...extra,
  }
}

export function finding(id: string, purl: string, extra: Obj = {}): Obj {
  return {
    id,
    aliases: [],
    purl,
    severity: 'high',
    score: 7.5,
    fixed: '9.9.9',
    direct: true,
    dev: false,
    suppressed: null,
    ...extra,
  }
}

export function vulns(findings: Obj[], extra: Obj = {}): Obj {
  return { schemaVersion: 1, complete: true, unchecked: [], findings, ...extra }
}

export function inputs(sbomData: Obj, more: Partial<PolicyInputs> = {}): PolicyInputs {
  return { sbom: { file: file('sbom.cdx.json'), data: sbomData }, ...more }
}

export function evaluate(
  policy: Omit<Policy, 'version'>,
  inp: PolicyInputs,
  now = NOW,
  trust?: SignatureTrust,
): PolicyResult {
  return evaluatePolicy({ version: 1, ...policy }, inp, { now, ...(trust ? { trust } : {}) })
}

export function rule(result: PolicyResult, id: string): RuleResult {
  const r = result.rules.find((x) => x.id === id)
  if (!r) throw new Error(`no rule ${id} in ${result.rules.map((x) => x.id).join(', ')}`)
  return r
}

export function violations(r: RuleResult): Array<Record<string, unknown>> {
  return r.evidence.violations as Array<Record<string, unknown>>
}

/** A temporary project whose workspace (.detbuild) is a copy of a fixture workspace. */
export async function project(
  fixture?: string,
): Promise<{ dir: string; out: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'detbuild-policy-'))
  const out = path.join(dir, '.detbuild')
  if (fixture) await cp(path.join(FIXTURES, fixture), out, { recursive: true })
  return { dir, out, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

export async function cli(
  argv: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    env: {},
    cwd,
    color: false,
    now: () => NOW,
    stdout: (t) => {
      stdout += t
    },
    stderr: (t) => {
      stderr += t
    },
  })
  return { code, stdout, stderr }
}

export const readText = (f: string) => readFile(f, 'utf8')
