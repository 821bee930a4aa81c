import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { promisify } from 'node:util'
import * as CDX from '@cyclonedx/cyclonedx-library'
import { canonicalPurl } from '../../src/ecosystems/npm/purl.ts'
import { cli } from '../helpers/cli.ts'
import { fixture, tempDir } from '../helpers/paths.ts'

interface Doc {
  serialNumber: string
  specVersion: string
  metadata: { timestamp: string; component: { 'bom-ref': string; purl: string; name: string } }
  components: Array<{
    'bom-ref': string
    purl: string
    name: string
    group?: string
    version: string
    scope?: string
    hashes?: Array<{ alg: string; content: string }>
    licenses?: unknown[]
    properties?: Array<{ name: string; value: string }>
  }>
  dependencies: Array<{ ref: string; dependsOn?: string[] }>
}

const FIXTURES = ['small-app', 'monorepo', 'dep-kinds', 'lockfile-v1', 'large-app'] as const

async function sbom(
  dir: string,
  ...args: string[]
): Promise<{ doc: Doc; bytes: string; out: string; stderr: string }> {
  const out = tempDir()
  const r = await cli(['sbom', '-C', dir, '--out', out, ...args])
  assert.equal(r.code, 0, r.stderr)
  const bytes = readFileSync(path.join(out, 'sbom.cdx.json'), 'utf8')
  return { doc: JSON.parse(bytes) as Doc, bytes, out, stderr: r.stderr }
}

const props = (c: Doc['components'][number], name: string) =>
  (c.properties ?? []).filter((p) => p.name === name).map((p) => p.value)

async function npmSbomPurls(dir: string, omit: string[] = []): Promise<Set<string>> {
  const { stdout } = await promisify(execFile)(
    'npm',
    ['sbom', '--sbom-format', 'cyclonedx', '--package-lock-only', ...omit.map((o) => `--omit=${o}`)],
    { cwd: dir, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_loglevel: 'silent' } },
  )
  const doc = JSON.parse(stdout) as { components: Array<{ purl: string }> }
  return new Set(doc.components.map((c) => canonicalPurl(c.purl)))
}

describe('detbuild sbom on every fixture', () => {
  for (const name of FIXTURES) {
    test(`${name}: schema-valid, byte-identical across runs, no duplicate refs`, async () => {
      const a = await sbom(fixture(name))
      const b = await sbom(fixture(name))
      assert.equal(a.bytes, b.bytes, 'two runs must give the same bytes')
      const invalid = await new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6).validate(a.bytes)
      assert.equal(invalid, null, JSON.stringify(invalid))
      const refs = a.doc.components.map((c) => c['bom-ref'])
      assert.equal(new Set(refs).size, refs.length, 'duplicate bom-ref')
      for (const c of a.doc.components) assert.equal(c['bom-ref'], c.purl)
      for (const d of a.doc.dependencies) {
        assert.equal(new Set(d.dependsOn).size, d.dependsOn?.length ?? 0, `duplicate dependsOn in ${d.ref}`)
        for (const to of d.dependsOn ?? [])
          assert.ok(refs.includes(to) || to === a.doc.metadata.component['bom-ref'])
      }
      assert.equal(a.doc.metadata.timestamp, '2023-11-14T22:13:20.000Z')
      assert.match(
        a.doc.serialNumber,
        /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      )
      assert.ok(!a.bytes.includes(fixture(name)), 'no absolute build paths in the output')
    })

    test(`${name}: the same package purls as npm sbom`, async () => {
      const { doc } = await sbom(fixture(name))
      const ours = new Set(doc.components.map((c) => canonicalPurl(c.purl)))
      const npm = await npmSbomPurls(fixture(name))
      npm.delete(canonicalPurl(doc.metadata.component.purl))
      assert.deepEqual([...ours].sort(), [...npm].sort())
    })
  }

  test('large-app has over 1,000 packages and a dependency entry for each', async () => {
    const { doc } = await sbom(fixture('large-app'))
    assert.ok(doc.components.length >= 1000, `only ${doc.components.length} components`)
    assert.equal(doc.dependencies.length, doc.components.length + 1)
  })
})

describe('package details', () => {
  test('scoped, aliased, git, tarball and file dependencies get correct purls', async () => {
    const { doc } = await sbom(fixture('dep-kinds'))
    const purls = doc.components.map((c) => c.purl)
    assert.ok(purls.includes('pkg:npm/ms@2.0.0'), 'an alias npm:ms@2.0.0 is the real package ms')
    assert.ok(purls.includes('pkg:npm/once@1.4.0'))
    const git = doc.components.find((c) => c.name === 'git-dep')!
    assert.equal(
      git.purl,
      'pkg:npm/git-dep@1.0.0?vcs_url=git%2Bssh%3A%2F%2Fgit%40github.com%2Fexample%2Fgit-dep.git%230123456789abcdef0123456789abcdef01234567',
    )
    assert.ok(purls.includes('pkg:npm/is-odd@3.0.1'))
    assert.ok(purls.includes('pkg:npm/local-lib@0.1.0'))
    const small = await sbom(fixture('small-app'))
    const slugify = small.doc.components.find((c) => c.name === 'slugify')!
    assert.equal(slugify.group, '@sindresorhus')
    assert.match(slugify.purl, /^pkg:npm\/%40sindresorhus\/slugify@2\.\d+\.\d+$/)
  })

  test('hashes come from the lockfile integrity, licences and scopes from the tree', async () => {
    const { doc } = await sbom(fixture('dep-kinds'))
    const lock = JSON.parse(readFileSync(fixture('dep-kinds', 'package-lock.json'), 'utf8'))
    const debug = doc.components.find((c) => c.name === 'debug')!
    const expected = Buffer.from(
      lock.packages['node_modules/debug'].integrity.replace(/^sha512-/, ''),
      'base64',
    ).toString('hex')
    assert.deepEqual(debug.hashes, [{ alg: 'SHA-512', content: expected }])
    assert.deepEqual(debug.licenses, [{ license: { id: 'MIT' } }])
    assert.equal(debug.scope, 'required')
    assert.equal(doc.components.find((c) => c.name === 'once')!.scope, 'excluded')
    assert.deepEqual(props(doc.components.find((c) => c.name === 'once')!, 'cdx:npm:package:development'), [
      'true',
    ])
    assert.equal(doc.components.find((c) => c.purl === 'pkg:npm/is-number@7.0.0')!.scope, 'optional')
    const isNumber6 = doc.components.find((c) => c.purl === 'pkg:npm/is-number@6.0.0')!
    assert.deepEqual(props(isNumber6, 'cdx:npm:package:path'), ['node_modules/is-odd/node_modules/is-number'])
    const local = doc.components.find((c) => c.name === 'local-lib')!
    assert.deepEqual(props(local, 'cdx:npm:package:path'), ['local-lib', 'node_modules/local-lib'])
  })

  test('--omit dev keeps a package that production code also needs (npm semantics)', async () => {
    const { doc } = await sbom(fixture('dep-kinds'), '--omit', 'dev')
    const purls = doc.components.map((c) => c.purl)
    assert.ok(purls.includes('pkg:npm/ms@2.1.2'), 'ms@2.1.2 is a devDependency and also needed by debug')
    assert.ok(!purls.includes('pkg:npm/once@1.4.0'), 'once is dev-only')
    assert.ok(
      purls.includes('pkg:npm/wrappy@1.0.2'),
      'wrappy is needed by local-lib and git-dep in production',
    )
    const npm = await npmSbomPurls(fixture('dep-kinds'), ['dev'])
    // npm sbom drops ms@2.1.2 here, which production code needs: detbuild keeps it
    const ours = new Set(purls.map(canonicalPurl))
    for (const p of npm) assert.ok(ours.has(p), `${p} missing`)
  })

  test('--omit optional,peer follows npm: optional-only and peer-only packages go', async () => {
    const { doc } = await sbom(fixture('dep-kinds'), '--omit', 'optional', '--omit', 'peer')
    const purls = doc.components.map((c) => c.purl)
    assert.ok(!purls.includes('pkg:npm/is-number@7.0.0'))
    assert.ok(!purls.includes('pkg:npm/react@18.3.1'))
    assert.ok(purls.includes('pkg:npm/is-number@6.0.0'), 'needed by is-odd in production')
    assert.deepEqual(
      [...new Set(purls.map(canonicalPurl))].sort(),
      [...(await npmSbomPurls(fixture('dep-kinds'), ['optional', 'peer']))].sort(),
    )
  })

  test('the dependency graph runs root → direct → transitive', async () => {
    const { doc } = await sbom(fixture('small-app'))
    const deps = new Map(doc.dependencies.map((d) => [d.ref, d.dependsOn ?? []]))
    const root = deps.get('pkg:npm/small-app@1.2.0')!
    assert.ok(root.some((r) => r.startsWith('pkg:npm/debug@')))
    assert.ok(root.some((r) => r.startsWith('pkg:npm/%40types/debug@')))
    const debug = [...deps.keys()].find((k) => k.startsWith('pkg:npm/debug@'))!
    assert.ok(deps.get(debug)!.some((r) => r.startsWith('pkg:npm/ms@')))
  })
})

describe('workspaces', () => {
  test('each workspace is a component with its own edges', async () => {
    const { doc } = await sbom(fixture('monorepo'))
    const deps = new Map(doc.dependencies.map((d) => [d.ref, d.dependsOn ?? []]))
    const app = 'pkg:npm/%40mono/app@1.0.0'
    const util = 'pkg:npm/%40mono/util@1.0.0'
    assert.ok(doc.components.some((c) => c.purl === app && c.scope === 'required'))
    assert.deepEqual(deps.get(app), [util, 'pkg:npm/ms@2.1.3'])
    assert.deepEqual(deps.get(util), ['pkg:npm/once@1.4.0'])
    assert.ok(deps.get('pkg:npm/monorepo-root@0.0.0')!.includes(app))
  })

  test('--workspace gives one workspace with only its own closure', async () => {
    const { doc } = await sbom(fixture('monorepo'), '--workspace', '@mono/util')
    assert.equal(doc.metadata.component.purl, 'pkg:npm/%40mono/util@1.0.0')
    assert.deepEqual(doc.components.map((c) => c.purl).sort(), ['pkg:npm/once@1.4.0', 'pkg:npm/wrappy@1.0.2'])
  })

  test('an unknown workspace is bad usage (exit 2)', async () => {
    const r = await cli(['sbom', '-C', fixture('monorepo'), '--out', tempDir(), '-w', 'nope', '--json'])
    assert.equal(r.code, 2)
    assert.equal(JSON.parse(r.stdout).error.code, 'SBOM_WORKSPACE_UNKNOWN')
  })
})

describe('spec versions and formats', () => {
  for (const spec of ['1.5', '1.4'] as const) {
    test(`--spec ${spec} is schema-valid`, async () => {
      const { doc, bytes } = await sbom(fixture('small-app'), '--spec', spec)
      assert.equal(doc.specVersion, spec)
      const v = spec === '1.5' ? CDX.Spec.Version.v1dot5 : CDX.Spec.Version.v1dot4
      assert.equal(await new CDX.Validation.JsonStrictValidator(v).validate(bytes), null)
    })
  }

  test('--format both writes JSON and XML with the same serial number, reproducibly', async () => {
    const a = await sbom(fixture('small-app'), '--format', 'both')
    const b = await sbom(fixture('small-app'), '--format', 'both')
    const xa = readFileSync(path.join(a.out, 'sbom.cdx.xml'), 'utf8')
    assert.equal(xa, readFileSync(path.join(b.out, 'sbom.cdx.xml'), 'utf8'))
    assert.ok(xa.includes(`serialNumber="${a.doc.serialNumber}"`))
    assert.ok(xa.includes('<purl>pkg:npm/debug@'))
  })

  test('the serial number changes when the content does', async () => {
    const a = await sbom(fixture('small-app'))
    const b = await sbom(fixture('small-app'), '--omit', 'dev')
    assert.notEqual(a.doc.serialNumber, b.doc.serialNumber)
  })
})

describe('bad input', () => {
  const project = (
    lock: string | undefined,
    pkg = '{"name":"p","version":"1.0.0","dependencies":{"ms":"^2.1.3"}}',
  ) => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'package.json'), pkg)
    if (lock !== undefined) writeFileSync(path.join(dir, 'package-lock.json'), lock)
    return dir
  }

  test('no lockfile: exit 2 with a hint', async () => {
    const r = await cli(['sbom', '-C', project(undefined), '--out', tempDir()])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /SBOM_LOCKFILE_MISSING.*npm install --package-lock-only/)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  })

  test('corrupt lockfile JSON: exit 2 naming the file, line and column; nothing written', async () => {
    const out = tempDir()
    const r = await cli([
      'sbom',
      '-C',
      project('{\n  "lockfileVersion": 3,\n  "packages": {,\n}'),
      '--out',
      out,
    ])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /package-lock\.json: invalid JSON at line 3, column 16/)
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line')
    assert.throws(() => readFileSync(path.join(out, 'sbom.cdx.json')))
  })

  test('unsupported lockfileVersion: exit 2', async () => {
    const r = await cli(['sbom', '-C', project('{"lockfileVersion": 9}'), '--out', tempDir(), '--json'])
    assert.equal(r.code, 2)
    assert.equal(JSON.parse(r.stdout).error.code, 'SBOM_LOCKFILE_INVALID')
  })

  test('a lockfile out of sync with package.json is a warning naming the packages', async () => {
    const dir = tempDir()
    cpSync(fixture('small-app'), dir, { recursive: true })
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))
    pkg.dependencies['left-pad'] = '^1.3.0'
    pkg.dependencies.semver = '^6.0.0'
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg))
    const r = await cli(['sbom', '-C', dir, '--out', tempDir()])
    assert.equal(r.code, 0)
    assert.match(
      r.stderr,
      /package-lock\.json is out of sync with package\.json.*left-pad@\^1\.3\.0 is not in package-lock\.json.*semver: package\.json wants \^6\.0\.0/,
    )
  })

  test('a lockfile that is a folder is unreadable input: exit 2 naming it', async () => {
    const dir = project(undefined)
    mkdirSync(path.join(dir, 'package-lock.json'))
    const r = await cli(['--json', 'sbom', '-C', dir, '--out', tempDir()])
    assert.equal(r.code, 2)
    const error = JSON.parse(r.stdout).error
    assert.equal(error.code, 'SBOM_LOCKFILE_UNREADABLE')
    assert.equal(error.file, 'package-lock.json')
  })

  test('bad package.json: exit 2', async () => {
    const r = await cli([
      'sbom',
      '-C',
      project('{"lockfileVersion":3,"packages":{}}', '{"name": '),
      '--out',
      tempDir(),
    ])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /package\.json: invalid JSON/)
  })

  test('--omit with an unknown type is bad usage', async () => {
    const r = await cli(['sbom', '-C', fixture('small-app'), '--out', tempDir(), '--omit', 'prod'])
    assert.equal(r.code, 2)
  })
})

describe('npm-shrinkwrap.json', () => {
  test('is read like package-lock.json and wins over it, as in npm', async () => {
    const dir = tempDir()
    cpSync(fixture('small-app'), dir, { recursive: true })
    const lock = readFileSync(path.join(dir, 'package-lock.json'), 'utf8')
    writeFileSync(path.join(dir, 'npm-shrinkwrap.json'), lock)
    writeFileSync(path.join(dir, 'package-lock.json'), '{ not json')
    const { doc } = await sbom(dir)
    const expected = await sbom(fixture('small-app'))
    assert.deepEqual(doc.components, expected.doc.components)
  })

  test('workspaces keep their own folders behind a shrinkwrap', async () => {
    const dir = tempDir()
    cpSync(fixture('monorepo'), dir, { recursive: true })
    renameSync(path.join(dir, 'package-lock.json'), path.join(dir, 'npm-shrinkwrap.json'))
    const { doc } = await sbom(dir, '-w', '@mono/util')
    assert.deepEqual(doc.components.map((c) => c.purl).sort(), ['pkg:npm/once@1.4.0', 'pkg:npm/wrappy@1.0.2'])
    const whole = await sbom(dir)
    const app = whole.doc.components.find((c) => c.name === 'app')!
    assert.deepEqual(props(app, 'cdx:npm:package:path'), ['node_modules/@mono/app', 'packages/app'])
  })
})

describe('--from installed', () => {
  test('reads node_modules, with full package.json metadata and extraneous warnings', async () => {
    const dir = tempDir()
    const write = (rel: string, data: unknown) => {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
      writeFileSync(path.join(dir, rel), JSON.stringify(data))
    }
    write('package.json', { name: 'inst', version: '1.0.0', dependencies: { a: '^1.0.0' } })
    write('node_modules/a/package.json', {
      name: 'a',
      version: '1.0.1',
      license: 'MIT OR Apache-2.0',
      author: { name: 'A Author' },
      homepage: 'https://example.org/a',
      bugs: { url: 'https://example.org/a/issues' },
      repository: 'github:example/a',
      dependencies: { b: '^2.0.0' },
    })
    write('node_modules/b/package.json', { name: 'b', version: '2.0.0', license: 'Custom licence' })
    write('node_modules/stray/package.json', { name: 'stray', version: '0.0.1' })
    const { doc, stderr } = await sbom(dir, '--from', 'installed')
    const a = doc.components.find((c) => c.name === 'a') as Doc['components'][number] & {
      author?: string
      externalReferences?: Array<{ type: string; url: string }>
    }
    assert.equal(a.author, 'A Author')
    assert.deepEqual(a.licenses, [{ expression: 'MIT OR Apache-2.0' }])
    assert.deepEqual(a.externalReferences?.map((e) => e.type).sort(), ['issue-tracker', 'vcs', 'website'])
    assert.deepEqual(doc.components.find((c) => c.name === 'b')!.licenses, [
      { license: { name: 'Custom licence' } },
    ])
    assert.match(stderr, /extraneous package stray@0\.0\.1/)
  })
})
