/**
 * Type-confused inputs are exit 2 naming the file and the JSON path: lockfiles, package.json, SBOMs
 * given to scan and policy, config and policy files that are an array or a scalar. Never a TypeError
 * from Arborist (exit 70), never a quiet success.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { cli } from '../helpers/cli.ts'
import { fixture, tempDir } from '../helpers/paths.ts'

type Json = Record<string, any>

const pkg0 = JSON.parse(readFileSync(fixture('small-app', 'package.json'), 'utf8')) as Json
const lock0 = JSON.parse(readFileSync(fixture('small-app', 'package-lock.json'), 'utf8')) as Json
const firstDep = Object.keys(lock0.packages as Json).find((k) => k !== '')!

/** Changes the manifest and lockfile in place, or returns replacements `{ pkg?, lock? }` for them. */
type Mutation = (pkg: Json, lock: Json) => unknown

/** A copy of small-app with package.json / package-lock.json changed by `mutate`. */
function project(mutate: Mutation): string {
  const dir = path.join(tempDir('detbuild-types-'), 'proj')
  cpSync(fixture('small-app'), dir, { recursive: true })
  const pkg = structuredClone(pkg0)
  const lock = structuredClone(lock0)
  const swap = (mutate(pkg, lock) ?? {}) as { pkg?: unknown; lock?: unknown }
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify('pkg' in swap ? swap.pkg : pkg))
  writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify('lock' in swap ? swap.lock : lock))
  return dir
}

interface ErrorJson {
  code: string
  message: string
  file?: string
  details?: { path?: string }
}

async function failing(args: string[]): Promise<{ code: number; error: ErrorJson; stderr: string }> {
  const r = await cli(['--json', ...args])
  const error = (JSON.parse(r.stdout) as { error: ErrorJson }).error
  const text = await cli(args)
  assert.doesNotMatch(text.stderr, /this is a bug/, text.stderr)
  return { code: r.code, error, stderr: text.stderr }
}

const SBOM_CASES: Array<[string, Mutation, string, string, string]> = [
  // name, mutation, file, error code, JSON path
  [
    'lockfile version is a number',
    (_p, l) => {
      l.version = 5
    },
    'package-lock.json',
    'SBOM_LOCKFILE_INVALID',
    '$.version',
  ],
  [
    'lockfileVersion is a string',
    (_p, l) => {
      l.lockfileVersion = '3'
    },
    'package-lock.json',
    'SBOM_LOCKFILE_INVALID',
    '',
  ],
  [
    'lockfile packages is an array',
    (_p, l) => {
      l.packages = []
    },
    'package-lock.json',
    'SBOM_LOCKFILE_INVALID',
    '',
  ],
  [
    'lockfile dependencies is an array',
    (_p, l) => {
      l.dependencies = []
    },
    'package-lock.json',
    'SBOM_LOCKFILE_INVALID',
    '$.dependencies',
  ],
  [
    'a packages entry is a number',
    (_p, l) => {
      l.packages['node_modules/x'] = 5
    },
    'package-lock.json',
    'SBOM_LOCKFILE_INVALID',
    '$.packages["node_modules/x"]',
  ],
  [
    'a packages entry version is a number',
    (_p, l) => {
      l.packages[firstDep].version = 5
    },
    'package-lock.json',
    'SBOM_LOCKFILE_INVALID',
    `$.packages[${JSON.stringify(firstDep)}].version`,
  ],
  [
    'a packages entry resolved is a number',
    (_p, l) => {
      l.packages[firstDep].resolved = 5
    },
    'package-lock.json',
    'SBOM_LOCKFILE_INVALID',
    `$.packages[${JSON.stringify(firstDep)}].resolved`,
  ],
  [
    'the root dependencies is an array',
    (_p, l) => {
      l.packages[''].dependencies = ['a']
    },
    'package-lock.json',
    'SBOM_LOCKFILE_INVALID',
    '$.packages[""].dependencies',
  ],
  ['package.json is an array', () => ({ pkg: [] }), 'package.json', 'SBOM_PACKAGE_JSON_INVALID', '$'],
  ['package.json is a string', () => ({ pkg: 'x' }), 'package.json', 'SBOM_PACKAGE_JSON_INVALID', '$'],
  [
    'package.json dependencies is an array',
    (p) => {
      p.dependencies = ['a']
    },
    'package.json',
    'SBOM_PACKAGE_JSON_INVALID',
    '$.dependencies',
  ],
  [
    'package.json name is a number',
    (p) => {
      p.name = 5
    },
    'package.json',
    'SBOM_PACKAGE_JSON_INVALID',
    '$.name',
  ],
  [
    'package.json version is a number',
    (p) => {
      p.version = 5
    },
    'package.json',
    'SBOM_PACKAGE_JSON_INVALID',
    '$.version',
  ],
  [
    'package.json workspaces is a string',
    (p) => {
      p.workspaces = 'x'
    },
    'package.json',
    'SBOM_PACKAGE_JSON_INVALID',
    '$.workspaces',
  ],
  [
    'package.json workspaces.packages is a number',
    (p) => {
      p.workspaces = { packages: 5 }
    },
    'package.json',
    'SBOM_PACKAGE_JSON_INVALID',
    '$.workspaces.packages',
  ],
  [
    'package.json workspaces holds a number',
    (p) => {
      p.workspaces = [5]
    },
    'package.json',
    'SBOM_PACKAGE_JSON_INVALID',
    '$.workspaces[0]',
  ],
]

for (const [name, mutate, file, code, jsonPath] of SBOM_CASES) {
  test(`sbom: ${name} → exit 2 ${code} naming ${file}${jsonPath ? ` ${jsonPath}` : ''}`, async () => {
    const dir = project(mutate)
    const r = await failing(['-C', dir, 'sbom'])
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.error.code, code)
    assert.equal(r.error.file, file)
    if (jsonPath) assert.equal(r.error.details?.path, jsonPath)
    assert.match(r.stderr, new RegExp(`^detbuild: error \\[${code}\\]: ${file.replace('.', '\\.')}: `, 'm'))
  })
}

test('the fixtures themselves (lockfile v1, workspaces, dep kinds) still pass the shape checks', async () => {
  for (const name of ['lockfile-v1', 'monorepo', 'dep-kinds', 'small-app']) {
    const out = tempDir()
    const r = await cli(['-C', fixture(name), '--out', out, '-q', 'sbom', '--no-validate'])
    assert.equal(r.code, 0, `${name}: ${r.stderr}`)
  }
})

test('sbom --from installed without node_modules is exit 2, not an empty SBOM', async () => {
  const dir = project(() => undefined)
  const r = await failing(['-C', dir, 'sbom', '--from', 'installed'])
  assert.equal(r.code, 2)
  assert.equal(r.error.code, 'SBOM_NODE_MODULES_MISSING')
  assert.equal(r.error.file, 'node_modules')
})

/** A minimal SBOM with one field changed. */
function sbomFile(change: (bom: Json) => void): string {
  const bom: Json = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    metadata: { component: { type: 'application', name: 'x', version: '1.0.0', 'bom-ref': 'x' } },
    components: [],
  }
  change(bom)
  const file = path.join(tempDir('detbuild-types-sbom-'), 'sbom.cdx.json')
  writeFileSync(file, JSON.stringify(bom))
  return file
}

const osv = ['--offline-db', fixture('osv', 'records')]

for (const [name, change, why] of [
  [
    'specVersion 1.3',
    (b: Json) => {
      b.specVersion = '1.3'
    },
    /specVersion must be one of 1\.4, 1\.5, 1\.6, 1\.7, not "1\.3"/,
  ],
  [
    'specVersion 2.0',
    (b: Json) => {
      b.specVersion = '2.0'
    },
    /specVersion/,
  ],
  [
    'specVersion a number',
    (b: Json) => {
      b.specVersion = 1.6
    },
    /specVersion/,
  ],
  [
    'components an object',
    (b: Json) => {
      b.components = { a: 1 }
    },
    /components/,
  ],
  [
    'components a string',
    (b: Json) => {
      b.components = 'x'
    },
    /components/,
  ],
] as const) {
  test(`scan and policy: an SBOM with ${name} is exit 2 naming the file`, async () => {
    const file = sbomFile(change)
    const dir = project(() => undefined)
    const scan = await failing(['-C', dir, 'scan', '--sbom', file, ...osv])
    assert.equal(scan.code, 2, scan.stderr)
    assert.equal(scan.error.code, 'SCAN_SBOM_INVALID')
    assert.match(scan.error.message, why)
    assert.ok(scan.stderr.includes(path.basename(file)), scan.stderr)
    const policy = await failing(['-C', dir, 'policy', '--sbom', file])
    assert.equal(policy.code, 2, policy.stderr)
    assert.equal(policy.error.code, 'POLICY_SBOM_INVALID')
    assert.match(policy.error.message, why)
    assert.ok(policy.stderr.includes(path.basename(file)), policy.stderr)
  })
}

for (const [what, text] of [
  ['an array', '[1, 2]'],
  ['a string', '"build"'],
  ['a number', '42'],
  ['null', 'null'],
] as const) {
  test(`a config file that is ${what} is exit 2 CONFIG_INVALID naming it (build, lock, run)`, async () => {
    const dir = project(() => undefined)
    writeFileSync(path.join(dir, 'detbuild.config.json'), text)
    for (const args of [
      ['build'],
      ['lock', '--registry', 'http://127.0.0.1:9'],
      ['run', '--steps', 'sbom'],
    ]) {
      const r = await cli(['-C', dir, '--json', ...args])
      assert.equal(r.code, 2, `${args[0]}: ${r.stdout}`)
      const doc = JSON.parse(r.stdout) as { error?: ErrorJson; steps?: Array<{ error?: ErrorJson }> }
      const error = doc.error ?? doc.steps?.find((s) => s.error)?.error
      assert.equal(error?.code, 'CONFIG_INVALID', `${args[0]}: ${r.stdout}`)
      assert.equal(error?.file, 'detbuild.config.json')
    }
  })

  test(`a policy file that is ${what} is exit 2 POLICY_INVALID naming it`, async () => {
    const dir = project(() => undefined)
    const out = path.join(dir, '.detbuild')
    mkdirSync(out, { recursive: true })
    writeFileSync(path.join(out, 'sbom.cdx.json'), readFileSync(sbomFile(() => {})))
    writeFileSync(path.join(dir, 'my-policy.yaml'), text)
    const r = await failing(['-C', dir, 'policy', '--policy', 'my-policy.yaml'])
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.error.code, 'POLICY_INVALID')
    assert.equal(r.error.file, 'my-policy.yaml')
  })
}

test('init: a package.json that is an array is exit 2 naming it', async () => {
  const dir = project(() => ({ pkg: [] }))
  const r = await failing(['-C', dir, 'init'])
  assert.equal(r.code, 2)
  assert.equal(r.error.code, 'BUILD_PACKAGE_JSON_INVALID')
  assert.equal(r.error.file, 'package.json')
})
