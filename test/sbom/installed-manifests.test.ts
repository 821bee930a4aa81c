/**
 * `sbom --from installed` after `npm ci`: npm's hidden lockfile (node_modules/.package-lock.json) makes
 * Arborist skip the packages' package.json files; detbuild reads each one, as hostile input.
 */
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { cli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/paths.ts'

interface Component {
  name: string
  author?: string
  description?: string
  licenses?: unknown[]
  externalReferences?: Array<{ type: string; url: string }>
  properties?: Array<{ name: string; value: string }>
}

const A = {
  name: 'a',
  version: '1.0.1',
  description: 'the a package',
  license: 'MIT',
  author: { name: 'A Author', email: 'a@example.org' },
  homepage: 'https://example.org/a',
  bugs: { url: 'https://example.org/a/issues' },
  repository: { type: 'git', url: 'git+https://github.com/example/a.git' },
  dependencies: { b: '^2.0.0' },
}
const B = { name: 'b', version: '2.0.0', description: 'the b package', author: 'B Author', license: 'ISC' }

/** A project as `npm ci` leaves it: package.json files and a fresh hidden lockfile (newest of all). */
function installedProject(extra: (dir: string) => void = () => {}): string {
  const dir = tempDir()
  const write = (rel: string, data: unknown) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    writeFileSync(path.join(dir, rel), typeof data === 'string' ? data : JSON.stringify(data))
  }
  write('package.json', { name: 'inst', version: '1.0.0', dependencies: { a: '^1.0.0' } })
  write('node_modules/a/package.json', A)
  write('node_modules/b/package.json', B)
  extra(dir)
  const entry = (p: { name: string; version: string; license?: string }, deps?: Record<string, string>) => ({
    version: p.version,
    resolved: `https://registry.npmjs.org/${p.name}/-/${p.name}-${p.version}.tgz`,
    integrity: `sha512-${Buffer.alloc(64, p.name).toString('base64')}`,
    ...(p.license ? { license: p.license } : {}),
    ...(deps ? { dependencies: deps } : {}),
  })
  const hidden = path.join(dir, 'node_modules', '.package-lock.json')
  write('node_modules/.package-lock.json', {
    name: 'inst',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: { 'node_modules/a': entry(A, A.dependencies), 'node_modules/b': entry(B) },
  })
  // Arborist takes the hidden lockfile only when it is newer than every package folder
  const later = new Date(Date.now() + 60_000)
  utimesSync(hidden, later, later)
  return dir
}

async function installedSbom(dir: string): Promise<{ components: Component[]; stderr: string }> {
  const out = tempDir()
  const r = await cli(['sbom', '-C', dir, '--out', out, '--from', 'installed'])
  assert.equal(r.code, 0, r.stderr)
  const doc = JSON.parse(readFileSync(path.join(out, 'sbom.cdx.json'), 'utf8')) as { components: Component[] }
  return { components: doc.components, stderr: r.stderr }
}

test('with a hidden lockfile, each package.json gives authors, descriptions, links and licences', async () => {
  const { components, stderr } = await installedSbom(installedProject())
  const a = components.find((c) => c.name === 'a')!
  assert.equal(a.author, 'A Author')
  assert.equal(a.description, 'the a package')
  assert.deepEqual(a.licenses, [{ license: { id: 'MIT' } }])
  assert.deepEqual(a.externalReferences?.map((e) => `${e.type} ${e.url}`).sort(), [
    'distribution https://registry.npmjs.org/a/-/a-1.0.1.tgz',
    'issue-tracker https://example.org/a/issues',
    'vcs git+https://github.com/example/a.git',
    'website https://example.org/a',
  ])
  const b = components.find((c) => c.name === 'b')!
  assert.equal(b.author, 'B Author')
  assert.deepEqual(b.licenses, [{ license: { id: 'ISC' } }])
  assert.doesNotMatch(stderr, /package\.json:/)
})

test('installed is as rich as lockfile mode: the lockfile entry fields survive a package.json read', async () => {
  const dir = installedProject()
  // the same tree as a package-lock.json: lockfile mode has the licence, installed mode everything
  const hidden = JSON.parse(readFileSync(path.join(dir, 'node_modules', '.package-lock.json'), 'utf8'))
  hidden.packages[''] = { name: 'inst', version: '1.0.0', dependencies: { a: '^1.0.0' } }
  writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(hidden))
  const out = tempDir()
  assert.equal((await cli(['sbom', '-C', dir, '--out', out])).code, 0)
  const lock = JSON.parse(readFileSync(path.join(out, 'sbom.cdx.json'), 'utf8')) as {
    components: Component[]
  }
  const { components } = await installedSbom(dir)
  for (const c of lock.components) {
    const inst = components.find((x) => x.name === c.name)!
    for (const key of Object.keys(c) as Array<keyof Component>)
      if (key !== 'properties') assert.ok(inst[key] !== undefined, `${c.name}: installed mode has ${key}`)
    assert.ok(Object.keys(inst).length > Object.keys(c).length, `${c.name}: installed mode has more`)
  }
})

test('a malformed, oversized, wrong or escaping package.json is a recorded gap, never a crash', async () => {
  const outside = tempDir()
  writeFileSync(
    path.join(outside, 'package.json'),
    JSON.stringify({ ...B, name: 'c', version: '3.0.0', author: 'Outside' }),
  )
  const dir = installedProject((d) => {
    // a package.json that is not JSON; one that is a symlink leaving the project
    writeFileSync(path.join(d, 'node_modules/a/package.json'), '{"name": "a", "version": ')
    mkdirSync(path.join(d, 'node_modules/c'))
    symlinkSync(path.join(outside, 'package.json'), path.join(d, 'node_modules/c/package.json'))
    // one that is huge, one naming another package
    mkdirSync(path.join(d, 'node_modules/d'))
    writeFileSync(
      path.join(d, 'node_modules/d/package.json'),
      JSON.stringify({ name: 'd', version: '1.0.0', description: 'x'.repeat(2 * 1024 * 1024) }),
    )
    mkdirSync(path.join(d, 'node_modules/e'))
    writeFileSync(
      path.join(d, 'node_modules/e/package.json'),
      JSON.stringify({ name: 'evil', version: '1.0.0', author: 'Evil' }),
    )
  })
  const hiddenFile = path.join(dir, 'node_modules', '.package-lock.json')
  const hidden = JSON.parse(readFileSync(hiddenFile, 'utf8'))
  for (const [n, v] of [
    ['c', '3.0.0'],
    ['d', '1.0.0'],
    ['e', '1.0.0'],
  ] as const)
    hidden.packages[`node_modules/${n}`] = {
      version: v,
      resolved: `https://registry.npmjs.org/${n}/-/${n}-${v}.tgz`,
      integrity: `sha512-${Buffer.alloc(64, n).toString('base64')}`,
    }
  writeFileSync(hiddenFile, JSON.stringify(hidden))
  const later = new Date(Date.now() + 60_000)
  utimesSync(hiddenFile, later, later)
  const { components, stderr } = await installedSbom(dir)
  assert.match(stderr, /node_modules\/a\/package\.json: .*JSON.*a@1\.0\.1 has only the tree's metadata/)
  assert.match(stderr, /node_modules\/c\/package\.json: it links outside the project: not read/)
  assert.match(stderr, /node_modules\/d\/package\.json: \d+ bytes, more than the 1048576 read/)
  assert.match(stderr, /node_modules\/e\/package\.json: it names "evil", not e: not used/)
  const by = (n: string) => components.find((c) => c.name === n)!
  assert.equal(by('a').author, undefined)
  assert.equal(by('c').author, undefined)
  assert.equal(by('d').description, undefined)
  assert.equal(by('e').author, undefined)
  // the others are still read
  assert.equal(by('b').author, 'B Author')
})

test('a workspace without a version and a link inside the project are read without a gap', async () => {
  const dir = tempDir()
  const write = (rel: string, data: unknown) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    writeFileSync(path.join(dir, rel), JSON.stringify(data))
  }
  write('package.json', { name: 'mono', version: '1.0.0', workspaces: ['packages/*'] })
  write('packages/w/package.json', { name: 'w', description: 'a workspace', author: 'W Team' })
  mkdirSync(path.join(dir, 'node_modules'))
  symlinkSync('../packages/w', path.join(dir, 'node_modules/w'))
  const { components, stderr } = await installedSbom(dir)
  assert.doesNotMatch(stderr, /package\.json:/)
  const w = components.find((c) => c.name === 'w')!
  assert.equal(w.description, 'a workspace')
  assert.equal(w.author, 'W Team')
})
