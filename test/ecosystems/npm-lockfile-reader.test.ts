/**
 * Arborist is the oracle of the direct lockfile reader: on every lockfile under fixtures/ and test/, and
 * on generated v2/v3 lockfiles (nesting, dev/optional/peer mixes, shared prod+dev dependencies, aliases,
 * tags, git/remote/tarball resolutions and specs that match or not, workspaces, links, bundles, extraneous
 * and missing packages, a lockfile out of sync with package.json), the inventory read directly equals the one read through Arborist, node for node, field
 * for field, with the same warnings, or both fail with the same error. A v2/v3 read never loads Arborist.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import type { Inventory } from '../../src/ecosystems/inventory.ts'
import { readInventory, readInventoryDirectly } from '../../src/ecosystems/npm/read-inventory.ts'
import { options } from '../fuzz/harness.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')

/** Everything an inventory says, in the order it says it. */
function plain(inv: Inventory): unknown {
  return { ...inv, nodes: [...inv.nodes.entries()], workspaces: [...inv.workspaces.entries()] }
}

type Outcome = { ok: unknown } | { error: { code: unknown; message: string } }

async function outcome(read: () => Promise<Inventory | null>): Promise<Outcome> {
  try {
    const inv = await read()
    return { ok: inv === null ? null : plain(inv) }
  } catch (e) {
    return { error: { code: (e as { code?: unknown }).code, message: (e as Error).message } }
  }
}

/** Both readers on one project; true when the direct reader (not its fallback) answered. */
async function compare(dir: string): Promise<boolean> {
  const oracle = await outcome(() => readInventory(dir, 'lockfile', { via: 'arborist' }))
  const direct = await outcome(() => readInventoryDirectly(dir))
  if ('ok' in direct && direct.ok === null) {
    // left to Arborist: readInventory must then give exactly the oracle's answer
    assert.deepEqual(await outcome(() => readInventory(dir, 'lockfile')), oracle, dir)
    return false
  }
  assert.deepEqual(direct, oracle, dir)
  return true
}

function lockfilesUnder(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === '.git') continue
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...lockfilesUnder(p))
    else if (e.name === 'package-lock.json' || e.name === 'npm-shrinkwrap.json') out.push(dir)
  }
  return out
}

test('the direct reader equals Arborist on every lockfile under fixtures/ and test/', async () => {
  const dirs = [...lockfilesUnder(path.join(ROOT, 'fixtures')), ...lockfilesUnder(path.join(ROOT, 'test'))]
  assert.ok(dirs.length >= 10, `found ${dirs.length} lockfiles`)
  const leftToArborist: string[] = []
  for (const dir of dirs) if (!(await compare(dir))) leftToArborist.push(path.relative(ROOT, dir))
  // v1; negated and outside-the-project workspace globs (git and remote tarball specs are read directly)
  assert.deepEqual(leftToArborist.sort(), ['fixtures/init/monorepo', 'fixtures/lockfile-v1'])
})

test('a v2/v3 lockfile is read without loading Arborist (npm-package-arg only for git, remote or tarball deps); a v1 lockfile loads it', () => {
  const script = (dir: string) => `
    import { createRequire } from 'node:module'
    import { readInventory } from ${JSON.stringify(path.join(ROOT, 'src/ecosystems/npm/read-inventory.ts'))}
    const inv = await readInventory(${JSON.stringify(dir)}, 'lockfile')
    const cached = Object.keys(createRequire(import.meta.url).cache)
    const count = (name) => cached.filter((k) => k.includes(\`/node_modules/\${name}/\`)).length
    console.log(JSON.stringify({ nodes: inv.nodes.size, arborist: count('@npmcli/arborist'), npa: count('npm-package-arg') }))`
  const run = (dir: string) =>
    JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', script(path.join(ROOT, dir))], {
        encoding: 'utf8',
      }),
    ) as { nodes: number; arborist: number; npa: number }
  const large = run('fixtures/large-app')
  assert.ok(large.nodes > 1000)
  assert.equal(large.arborist, 0)
  assert.equal(large.npa, 0)
  const depKinds = run('fixtures/dep-kinds')
  assert.equal(depKinds.arborist, 0)
  assert.ok(depKinds.npa > 0)
  const monorepo = run('fixtures/monorepo')
  assert.equal(monorepo.arborist, 0)
  assert.ok(run('fixtures/lockfile-v1').arborist > 0)
})

const SHA = '0123456789abcdef0123456789abcdef01234567'
const OTHER_SHA = 'fedcba9876543210fedcba9876543210fedcba98'

const reg = (name: string, version: string) => ({
  version,
  resolved: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz`,
})

/** Small projects at the edges: each must read as Arborist reads it, directly or through Arborist. */
const CASES: Array<{
  name: string
  direct: boolean
  pkg: Record<string, unknown>
  packages: Record<string, unknown>
  files?: Record<string, unknown>
  /** every warning the inventory gives, one pattern each (Arborist's and the direct reader's alike) */
  warnings?: RegExp[]
  /** kinds of some nodes, by location */
  kinds?: Record<string, string>
}> = [
  {
    name: 'a package both prod and dev need stays prod; the lockfile disagrees with package.json',
    direct: true,
    pkg: { name: 'r', version: '1.0.0', dependencies: { a: '^1.0.0' }, devDependencies: { b: '^1.0.0' } },
    packages: {
      '': { name: 'r', version: '1.0.0', dependencies: { a: '^1.0.0' } },
      'node_modules/a': { ...reg('a', '1.0.0'), dependencies: { c: '^1.0.0' }, dev: true },
      'node_modules/b': { ...reg('b', '1.0.0'), dependencies: { c: '^1.0.0' }, dev: true },
      'node_modules/c': { ...reg('c', '1.0.0'), dev: true },
      'node_modules/d': { ...reg('d', '1.0.0'), extraneous: true },
    },
  },
  {
    name: 'a link without its target',
    direct: false,
    pkg: { name: 'r', version: '1.0.0', dependencies: { l: 'file:lib' } },
    packages: {
      '': { name: 'r', version: '1.0.0', dependencies: { l: 'file:lib' } },
      'node_modules/l': { resolved: 'lib', link: true },
    },
  },
  {
    name: 'workspaces as an object without a packages list',
    direct: false,
    pkg: { name: 'r', version: '1.0.0', workspaces: { nohoist: ['x'] } },
    packages: { '': { name: 'r', version: '1.0.0' } },
  },
  {
    name: 'a key that leaves the project',
    direct: false,
    pkg: { name: 'r', version: '1.0.0', dependencies: { a: '^1.0.0' } },
    packages: {
      '': { name: 'r', version: '1.0.0', dependencies: { a: '^1.0.0' } },
      'node_modules/a': reg('a', '1.0.0'),
      '../outside': { version: '1.0.0' },
    },
  },
  {
    name: 'a linked folder whose package.json on disk has neither name nor version',
    direct: true,
    pkg: { name: 'r', version: '1.0.0', dependencies: { l: 'file:lib', m: 'file:m' } },
    packages: {
      '': { name: 'r', version: '1.0.0', dependencies: { l: 'file:lib', m: 'file:m' } },
      lib: { name: 'l', version: '1.0.0' },
      m: { name: 'm', version: '1.0.0', dependencies: { l: '^1.0.0' } },
      'node_modules/l': { resolved: 'lib', link: true },
      'node_modules/m': { resolved: 'm', link: true },
    },
    files: { 'lib/package.json': { description: 'no name' }, 'm/package.json': { dependencies: { l: '*' } } },
  },
  {
    name: 'two workspaces with one name',
    direct: false,
    pkg: { name: 'r', version: '1.0.0', workspaces: ['p/*'] },
    packages: {
      '': { name: 'r', version: '1.0.0', workspaces: ['p/*'] },
      'node_modules/w': { resolved: 'p/a', link: true },
      'p/a': { name: 'w', version: '1.0.0' },
      'p/b': { name: 'w', version: '1.0.0' },
    },
    files: { 'p/a/package.json': { name: 'w', version: '1.0.0' }, 'p/b/package.json': { name: 'w' } },
  },
  {
    name: 'bundled packages, an alias, a tag and a workspace read from disk',
    direct: true,
    pkg: {
      name: 'r',
      version: '1.0.0',
      workspaces: ['p/w'],
      dependencies: { b: '^1.0.0', al: 'npm:a@^1.0.0', t: 'latest' },
    },
    packages: {
      '': {
        name: 'r',
        version: '1.0.0',
        workspaces: ['p/w'],
        dependencies: { b: '^1.0.0', al: 'npm:a@^1.0.0', t: 'latest' },
      },
      'node_modules/al': { ...reg('a', '1.1.0'), name: 'a' },
      'node_modules/b': { ...reg('b', '1.0.0'), bundleDependencies: ['c'], dependencies: { c: '*' } },
      'node_modules/b/node_modules/c': { version: '2.0.0', inBundle: true, dependencies: { e: '^1.0.0' } },
      'node_modules/b/node_modules/e': { version: '1.0.0', inBundle: true },
      'node_modules/t': reg('t', '3.0.0'),
      'node_modules/w': { resolved: 'p/w', link: true },
      'p/w': { name: 'w', version: '0.0.1', dependencies: { b: '^2.0.0' } },
    },
    files: { 'p/w/package.json': { name: 'w', version: '0.2.0', dependencies: { al: '^1.0.0' } } },
  },
  {
    name: 'git (commit, semver: range, github shorthand, other host), remote and file tarball dependencies',
    direct: true,
    pkg: {
      name: 'r',
      version: '1.0.0',
      dependencies: {
        c: `git+ssh://git@github.com/x/c.git#${SHA}`,
        s: 'github:x/s#semver:^1.0.0',
        g: 'github:x/g#v1.0.0',
        h: 'git+https://github.com/x/h.git',
        o: 'git+https://git.example.com/x/o.git#semver:~2.0.0',
        rt: 'https://example.com/rt-1.0.0.tgz',
        ft: 'file:vendor/ft-1.0.0.tgz',
        t: 'latest',
      },
    },
    packages: {
      '': {
        name: 'r',
        version: '1.0.0',
        dependencies: {
          c: `git+ssh://git@github.com/x/c.git#${SHA}`,
          s: 'github:x/s#semver:^1.0.0',
          g: 'github:x/g#v1.0.0',
          h: 'git+https://github.com/x/h.git',
          o: 'git+https://git.example.com/x/o.git#semver:~2.0.0',
          rt: 'https://example.com/rt-1.0.0.tgz',
          ft: 'file:vendor/ft-1.0.0.tgz',
          t: 'latest',
        },
      },
      'node_modules/c': { version: '1.0.0', resolved: `git+ssh://git@github.com/x/c.git#${SHA}` },
      'node_modules/s': { version: '1.4.0', resolved: `git+ssh://git@github.com/x/s.git#${SHA}` },
      'node_modules/g': {
        version: '1.0.0',
        resolved: `github:x/g#${SHA}`,
        dependencies: { ft2: 'file:ft2-1.0.0.tgz', w: 'github:x/w' },
      },
      'node_modules/h': { version: '3.0.0', resolved: `git+https://github.com/x/h.git#${SHA}` },
      'node_modules/o': { version: '2.0.5', resolved: `git+https://git.example.com/x/o.git#${SHA}` },
      'node_modules/rt': {
        version: '1.0.0',
        resolved: 'https://example.com/rt-1.0.0.tgz',
        integrity: 'sha512-AAAA',
        dependencies: { ft3: 'file:ft3.tgz' },
      },
      'node_modules/ft': {
        version: '1.0.0',
        resolved: 'file:vendor/ft-1.0.0.tgz',
        integrity: 'sha512-BBBB',
        dependencies: { ft2: 'file:ft2-1.0.0.tgz' },
      },
      'node_modules/ft/node_modules/ft2': { version: '1.0.0', resolved: 'file:vendor/ft2-1.0.0.tgz' },
      'node_modules/ft2': { version: '1.0.0', resolved: 'file:vendor/ft2-1.0.0.tgz' },
      'node_modules/ft3': { version: '1.0.0', resolved: 'file:ft3.tgz' },
      'node_modules/t': { version: '1.0.0', resolved: 'https://example.com/t-1.0.0.tgz' },
      'node_modules/w': { version: '1.0.0', resolved: `git+ssh://git@github.com/x/w.git#${SHA}` },
    },
    kinds: {
      'node_modules/c': 'git',
      'node_modules/g': 'git',
      'node_modules/rt': 'remote',
      'node_modules/ft': 'file',
      'node_modules/t': 'remote',
    },
    warnings: [
      // g's file: spec is read from g's own folder (not a tarball): it does not match the one at the top
      /^invalid dependency ft2: g@1\.0\.0 wants file:ft2-1\.0\.0\.tgz, found 1\.0\.0$/,
      // nor is a remote package's (ft's own file: spec is read from its tarball's folder: valid)
      /^invalid dependency ft3: rt@1\.0\.0 wants file:ft3\.tgz, found 1\.0\.0$/,
    ],
  },
  {
    name: 'git and remote dependencies that do not match what the lockfile resolved',
    direct: true,
    pkg: {
      name: 'r',
      version: '1.0.0',
      dependencies: {
        a: '^1.0.0',
        g: 'github:x/g#v2.0.0',
        s: 'github:x/s#semver:^2.0.0',
        c: `github:x/c#${OTHER_SHA}`,
      },
    },
    packages: {
      '': {
        name: 'r',
        version: '1.0.0',
        dependencies: {
          a: '^1.0.0',
          g: 'github:x/g#v1.0.0',
          s: 'github:x/s#semver:^2.0.0',
          c: `github:x/c#${OTHER_SHA}`,
        },
      },
      'node_modules/a': {
        ...reg('a', '1.0.0'),
        dependencies: {
          other: 'github:y/other#v1',
          rt: 'https://example.com/rt-2.0.0.tgz',
          t: 'next',
          tg: 'next',
          ft: 'file:ft.tgz',
        },
      },
      'node_modules/g': { version: '1.0.0', resolved: `git+ssh://git@github.com/x/g.git#${SHA}` },
      'node_modules/s': { version: '1.4.0', resolved: `git+ssh://git@github.com/x/s.git#${SHA}` },
      'node_modules/c': { version: '1.0.0', resolved: `git+ssh://git@github.com/x/c.git#${SHA}` },
      'node_modules/other': { version: '1.0.0', resolved: `git+ssh://git@github.com/x/other.git#${SHA}` },
      'node_modules/rt': { version: '1.0.0', resolved: 'https://example.com/rt-1.0.0.tgz' },
      'node_modules/t': reg('t', '1.0.0'),
      'node_modules/tg': { version: '1.0.0', resolved: `git+ssh://git@github.com/x/tg.git#${SHA}` },
      'node_modules/ft': reg('ft', '1.0.0'),
    },
    warnings: [
      /^package-lock\.json is out of sync with package\.json \(run npm install\): c: package\.json wants github:x\/c#f[0-9a-f]+, package-lock\.json has 1\.0\.0; g: package\.json wants github:x\/g#v2\.0\.0, package-lock\.json has 1\.0\.0; s: package\.json wants github:x\/s#semver:\^2\.0\.0, package-lock\.json has 1\.4\.0$/,
      /^invalid dependency other: a@1\.0\.0 wants github:y\/other#v1, found 1\.0\.0$/,
      /^invalid dependency rt: a@1\.0\.0 wants https:\/\/example\.com\/rt-2\.0\.0\.tgz, found 1\.0\.0$/,
      /^invalid dependency tg: a@1\.0\.0 wants next, found 1\.0\.0$/,
      /^invalid dependency ft: a@1\.0\.0 wants file:ft\.tgz, found 1\.0\.0$/,
    ],
  },
  {
    name: 'a named git ref is checked against the one the lockfile recorded for the requesting package',
    direct: true,
    pkg: { name: 'r', version: '1.0.0', workspaces: ['p/*'], dependencies: { a: '^1.0.0' } },
    packages: {
      '': { name: 'r', version: '1.0.0', workspaces: ['p/*'], dependencies: { a: '^1.0.0' } },
      // both in dependencies and optionalDependencies: Arborist's own manifest normalization keeps the optional one
      'node_modules/a': {
        ...reg('a', '1.0.0'),
        dependencies: { g: 'github:x/g#v9.0.0', h: 'github:x/h#main' },
        optionalDependencies: { g: 'github:x/g#v1.0.0' },
      },
      'node_modules/g': { version: '1.0.0', resolved: `git+ssh://git@github.com/x/g.git#${SHA}` },
      'node_modules/h': { version: '1.0.0', resolved: `git+ssh://git@github.com/x/h.git#${SHA}` },
      'node_modules/same': { resolved: 'p/same', link: true },
      'node_modules/moved': { resolved: 'p/moved', link: true },
      'p/same': { name: 'same', version: '1.0.0', dependencies: { g: 'github:x/g#v1.0.0' } },
      'p/moved': { name: 'moved', version: '1.0.0', dependencies: { g: 'github:x/g#v1.0.0' } },
    },
    files: {
      'p/same/package.json': { name: 'same', version: '1.0.0', dependencies: { g: 'github:x/g#v1.0.0' } },
      // the workspace's package.json names another tag than its lockfile entry: out of sync
      'p/moved/package.json': { name: 'moved', version: '1.0.0', dependencies: { g: 'github:x/g#v2.0.0' } },
    },
    warnings: [
      /^package-lock\.json is out of sync with package\.json \(run npm install\): g: moved@1\.0\.0 wants github:x\/g#v2\.0\.0, package-lock\.json has 1\.0\.0$/,
    ],
  },
]

for (const c of CASES)
  test(`the direct reader equals Arborist: ${c.name}`, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'detbuild-lockfile-case-'))
    try {
      await writeFile(path.join(dir, 'package.json'), JSON.stringify(c.pkg))
      await writeFile(
        path.join(dir, 'package-lock.json'),
        JSON.stringify({
          name: 'r',
          version: '1.0.0',
          lockfileVersion: 3,
          requires: true,
          packages: c.packages,
        }),
      )
      for (const [file, content] of Object.entries(c.files ?? {})) {
        await mkdir(path.dirname(path.join(dir, file)), { recursive: true })
        await writeFile(path.join(dir, file), JSON.stringify(content))
      }
      assert.equal(await compare(dir), c.direct)
      if (!c.warnings && !c.kinds) return
      const inv = await readInventory(dir, 'lockfile')
      for (const w of c.warnings ?? [])
        assert.ok(
          inv.warnings.some((x) => w.test(x)),
          `${w} not in:\n${inv.warnings.join('\n')}`,
        )
      if (c.warnings) assert.equal(inv.warnings.length, c.warnings.length, inv.warnings.join('\n'))
      for (const [loc, kind] of Object.entries(c.kinds ?? {}))
        assert.equal(inv.nodes.get(loc)?.kind, kind, loc)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

test('a local tarball in a shrinkwrap is left to Arborist (which reads a temporary copy of the project)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'detbuild-lockfile-case-'))
  try {
    const pkg = { name: 'r', version: '1.0.0', dependencies: { ft: 'file:ft.tgz' } }
    const packages = { '': pkg, 'node_modules/ft': { version: '1.0.0', resolved: 'file:ft.tgz' } }
    await writeFile(path.join(dir, 'package.json'), JSON.stringify(pkg))
    const lock = { name: 'r', version: '1.0.0', lockfileVersion: 3, requires: true, packages }
    await writeFile(path.join(dir, 'npm-shrinkwrap.json'), JSON.stringify(lock))
    assert.equal(await readInventoryDirectly(dir), null)
    await writeFile(path.join(dir, 'package-lock.json'), JSON.stringify(lock))
    await rm(path.join(dir, 'npm-shrinkwrap.json'))
    const direct = await readInventoryDirectly(dir)
    assert.equal(direct?.nodes.get('node_modules/ft')?.resolved, `file:${path.join(dir, 'ft.tgz')}`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

// ---------------------------------------------------------------- generated lockfiles

const NAMES = ['a', 'b', 'c', '@s/d', 'E'] as const
const VERSIONS = ['1.0.0', '1.2.0', '2.0.0', '2.1.0-beta.1'] as const
const SPECS = [
  '^1.0.0',
  '1.x',
  '*',
  '',
  '^2.0.0',
  '>=1.2.0 <2',
  '~1.2.0',
  'latest',
  '^2.1.0-beta.0',
  'npm:b@^1.0.0',
  'npm:@s/d',
  '1.0.0 - 2.0.0',
  // git, remote and tarball specs: each matches what some generated entries resolved to, not others
  'github:x/a#v1.0.0',
  `git+ssh://git@github.com/x/b.git#${SHA}`,
  `github:x/c#${OTHER_SHA}`,
  'github:x/a#semver:^1.0.0',
  'git+https://github.com/x/b.git',
  'git+https://git.example.com/x/c.git#semver:>=2',
  'https://example.com/a-1.0.0.tgz',
  'file:vendor/b-1.2.0.tgz',
  'file:../c.tgz',
] as const

const depMap = fc.dictionary(fc.constantFrom(...NAMES), fc.constantFrom(...SPECS), { maxKeys: 3 })
const registry = (name: string, version: string) =>
  `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${version}.tgz`

const entryArb = fc.record({
  version: fc.constantFrom(...VERSIONS),
  alias: fc.option(fc.constantFrom(...NAMES), { freq: 5 }),
  resolved: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom('registry', 'none', 'registry') },
    {
      weight: 3,
      arbitrary: fc.constantFrom('git', 'github', 'git-https', 'git-other', 'remote', 'file', 'odd'),
    },
  ),
  commit: fc.constantFrom(SHA, OTHER_SHA),
  dependencies: depMap,
  optionalDependencies: fc.option(depMap, { freq: 4 }),
  peerDependencies: fc.option(depMap, { freq: 3 }),
  peerOptional: fc.boolean(),
  devDependencies: fc.option(depMap, { freq: 6 }),
  dev: fc.boolean(),
  optional: fc.boolean(),
  devOptional: fc.boolean(),
  peer: fc.boolean(),
  extraneous: fc.option(fc.constant(true), { freq: 6 }),
  inBundle: fc.option(fc.constant(true), { freq: 5 }),
  bundleDependencies: fc.option(fc.subarray([...NAMES], { maxLength: 2 }), { freq: 5 }),
})

const projectArb = fc.record({
  entries: fc.array(
    fc.tuple(
      fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }),
      entryArb,
      // installed under the first workspace's own node_modules
      fc.constantFrom(false, false, false, true),
    ),
    { maxLength: 14 },
  ),
  // the second workspace depends on the first: by range, by folder, or not
  wsCross: fc.constantFrom('none', '*', '^0.1.0', '^9.0.0', 'file:../w1', '>=0.2.0-rc.1', 'npm:w1@^0.2.0'),
  // the package.json on disk (which Arborist reads for a link target) differs from the lockfile
  diskBump: fc.boolean(),
  overrides: fc.constantFrom(false, false, false, false, true),
  rootDeps: depMap,
  rootDev: depMap,
  rootOptional: fc.option(depMap, { freq: 3 }),
  rootPeer: fc.option(depMap, { freq: 4 }),
  workspaces: fc.subarray(['w1', 'w2', 'w3'] as const),
  wsDeps: depMap,
  wsDev: depMap,
  missingLink: fc.boolean(),
  fileDep: fc.boolean(),
  lockfileVersion: fc.constantFrom(2, 3),
  sync: fc.constantFrom('same', 'same', 'drop', 'change'),
  shrinkwrap: fc.boolean(),
  sorted: fc.constantFrom(true, true, true, false),
})

type Project = typeof projectArb extends fc.Arbitrary<infer T> ? T : never

function toFiles(p: Project): {
  pkg: Record<string, unknown>
  lock: Record<string, unknown>
  disk: string[]
} {
  const packages: Record<string, Record<string, unknown>> = {}
  for (const [chain, e, underWs] of p.entries) {
    const prefix = underWs && p.workspaces.length > 0 ? `packages/${p.workspaces[0]}/` : ''
    const loc = prefix + chain.map((n) => `node_modules/${n}`).join('/')
    const name = e.alias ?? chain[chain.length - 1]!
    const entry: Record<string, unknown> = { version: e.version }
    if (e.alias) entry.name = e.alias
    if (e.resolved === 'registry') entry.resolved = registry(name, e.version)
    const slug = name.replace(/[@/]/g, '')
    const gitResolved: Record<string, string> = {
      git: `git+ssh://git@github.com/x/${slug}.git#${e.commit}`,
      github: `github:x/${slug}#${e.commit}`,
      'git-https': `git+https://github.com/x/${slug}.git#${e.commit}`,
      'git-other': `git+https://git.example.com/x/${slug}.git#${e.commit}`,
      remote: `https://example.com/${slug}-${e.version}.tgz`,
      file: `file:vendor/${slug}-${e.version}.tgz`,
      odd: 'git+ssh://not a url',
    }
    // (a local tarball in a shrinkwrap: Arborist, the oracle, reports the path of a temporary copy)
    const kind = e.resolved === 'file' && p.shrinkwrap ? 'remote' : e.resolved
    if (gitResolved[kind]) entry.resolved = gitResolved[kind]
    if (Object.keys(e.dependencies).length) entry.dependencies = e.dependencies
    if (e.optionalDependencies) entry.optionalDependencies = e.optionalDependencies
    if (e.peerDependencies) {
      entry.peerDependencies = e.peerDependencies
      if (e.peerOptional)
        entry.peerDependenciesMeta = Object.fromEntries(
          Object.keys(e.peerDependencies).map((k) => [k, { optional: true }]),
        )
    }
    if (e.devDependencies) entry.devDependencies = e.devDependencies
    for (const f of ['dev', 'optional', 'devOptional', 'peer'] as const) if (e[f]) entry[f] = true
    if (e.extraneous) entry.extraneous = true
    if (e.inBundle) entry.inBundle = true
    if (e.bundleDependencies) entry.bundleDependencies = e.bundleDependencies
    packages[loc] = entry
  }
  const pkg: Record<string, unknown> = { name: 'root-app', version: '1.0.0' }
  if (Object.keys(p.rootDeps).length) pkg.dependencies = { ...p.rootDeps }
  if (Object.keys(p.rootDev).length) pkg.devDependencies = p.rootDev
  if (p.rootOptional) pkg.optionalDependencies = p.rootOptional
  if (p.rootPeer) pkg.peerDependencies = p.rootPeer
  if (p.overrides) pkg.overrides = { a: '1.0.0' }
  const disk: string[] = []
  if (p.workspaces.length) {
    pkg.workspaces = ['packages/*']
    p.workspaces.forEach((w, i) => {
      const wsName = i === 1 ? `@ws/${w}` : w
      const dependencies: Record<string, string> = { ...p.wsDeps }
      if (i === 1 && p.wsCross !== 'none') dependencies[p.workspaces[0]!] = p.wsCross
      packages[`packages/${w}`] = { name: wsName, version: '0.1.0', dependencies, devDependencies: p.wsDev }
      if (!(p.missingLink && i === 0))
        packages[`node_modules/${wsName}`] = { resolved: `packages/${w}`, link: true }
      disk.push(`packages/${w}`)
    })
  }
  if (p.fileDep) {
    pkg.dependencies = { ...(pkg.dependencies as object), lib: 'file:lib' }
    packages.lib = { name: 'lib', version: '3.0.0', dependencies: { a: '^1.0.0' } }
    packages['node_modules/lib'] = { resolved: 'lib', link: true }
    disk.push('lib')
  }
  const rootEntry: Record<string, unknown> = { ...pkg }
  if (p.sync === 'drop') delete rootEntry.devDependencies
  if (p.sync === 'change') rootEntry.dependencies = { ...(rootEntry.dependencies as object), c: '^9.0.0' }
  // npm writes the keys sorted (so a package comes after the one whose node_modules holds it)
  const keys = Object.keys(packages)
  if (p.sorted) keys.sort((a, b) => a.localeCompare(b, 'en'))
  const lock = {
    name: 'root-app',
    version: '1.0.0',
    lockfileVersion: p.lockfileVersion,
    requires: true,
    packages: Object.fromEntries([['', rootEntry], ...keys.map((k) => [k, packages[k]!])]),
  }
  return { pkg, lock, disk }
}

test('the direct reader equals Arborist on generated v2/v3 lockfiles', async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'detbuild-lockfile-'))
  let direct = 0
  let total = 0
  try {
    await fc.assert(
      fc.asyncProperty(projectArb, async (p) => {
        const dir = path.join(base, `p${total++}`, 'project')
        const { pkg, lock, disk } = toFiles(p)
        await mkdir(dir, { recursive: true })
        await writeFile(path.join(dir, 'package.json'), JSON.stringify(pkg))
        const lockName = p.shrinkwrap ? 'npm-shrinkwrap.json' : 'package-lock.json'
        await writeFile(path.join(dir, lockName), JSON.stringify(lock))
        for (const d of disk) {
          await mkdir(path.join(dir, d), { recursive: true })
          const entry = (lock.packages as Record<string, Record<string, unknown>>)[d]!
          const deps = { ...(entry.dependencies as object), a: '^2.0.0' }
          const onDisk = p.diskBump ? { ...entry, version: '0.2.0', dependencies: deps } : entry
          await writeFile(path.join(dir, d, 'package.json'), JSON.stringify(onDisk))
        }
        if (await compare(dir)) direct++
        await rm(path.dirname(dir), { recursive: true, force: true })
      }),
      options(60) as fc.Parameters<[Project]>,
    )
  } finally {
    await rm(base, { recursive: true, force: true })
  }
  // the generator mostly writes what the direct reader handles
  if (process.env.FUZZ_RUNS) process.stderr.write(`${direct} of ${total} read directly\n`)
  assert.ok(direct >= total / 3, `${direct} of ${total} read directly`)
})
