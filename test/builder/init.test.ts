/**
 * `detbuild init`'s recipes: one small fixture per project shape (fixtures/init/*: package.json + lockfile),
 * read by the edge (`readProjectFacts`) and turned into a config by the pure `toInitialConfig`.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import {
  detectNpmVersion,
  invokesScript,
  isHookOnly,
  type ProjectFacts,
  readProjectFacts,
  shellWord,
  toBuildScripts,
  toInitialConfig,
  toPackRoot,
} from '../../src/builder/init.ts'
import { makeProject, ROOT, runCli } from './helpers.ts'

const NODE = '24.21.0'
const NPM = '11.19.1'
const PACK = 'npm pack --ignore-scripts --pack-destination dist'
const temps: string[] = []
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true })
})

function fixture(name: string): string {
  return path.join(ROOT, 'fixtures', 'init', name)
}

async function initOf(name: string, currentNpm: string | null = NPM) {
  return toInitialConfig(await readProjectFacts(fixture(name), NODE, currentNpm))
}

function copyFixture(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-init-'))
  temps.push(dir)
  const project = path.join(dir, 'project')
  cpSync(fixture(name), project, { recursive: true })
  return project
}

test('a package with a build script: npm ci, the build, then npm pack --ignore-scripts into a created folder', async () => {
  const { config, warnings } = await initOf('single')
  assert.deepEqual(config, {
    $schema: './node_modules/detbuild/schema/config.schema.json',
    toolchain: { node: NODE, npm: NPM },
    install: 'npm ci --ignore-scripts',
    build: ['npm run build', 'mkdir -p dist', PACK],
    outputs: ['dist/*.tgz'],
    network: 'deny',
    scripts: false,
  })
  assert.deepEqual(warnings, [])
  assert.equal('env' in config, false, 'NODE_ENV (or anything else) is not passed through by default')
})

test('a prepack that runs the build is what publishing runs: it replaces the build, not added to it', async () => {
  const { config } = await initOf('prepack-builds')
  assert.deepEqual(config.build, ['npm run prepack', 'mkdir -p dist', PACK])
  // packageManager "npm@x.y.z+sha512…": the suffix is corepack's hash, not part of the version
  assert.deepEqual(config.toolchain, { node: NODE, npm: '11.12.1' })
})

test('a build that lives in prepare (tshy) runs by name; .nvmrc pins node', async () => {
  const { config, warnings } = await initOf('prepare-builds')
  assert.deepEqual(config.build, ['npm run prepare', 'mkdir -p dist', PACK])
  assert.deepEqual(config.toolchain, { node: '22.22.0', npm: NPM })
  assert.deepEqual(warnings, [])
})

test('a prepare that only installs git hooks is no build: pack only, no install, and a warning says so', async () => {
  const { config, warnings } = await initOf('hooks-only')
  assert.deepEqual(config.build, ['mkdir -p dist', PACK])
  assert.deepEqual(config.install, [])
  assert.equal(warnings.length, 1)
  assert.match(warnings[0] as string, /no build script .*only packs the committed files/)
})

test('other build script names, pnpm lockfile: compile is found, the pnpm lock gets a warning, npm from the running one', async () => {
  const { config, warnings } = await initOf('compile-pnpm')
  assert.deepEqual(config.build, ['npm run compile', 'mkdir -p dist', PACK])
  assert.equal(config.install, 'pnpm install --frozen-lockfile --ignore-scripts')
  assert.deepEqual(config.toolchain, { node: NODE, npm: NPM }, 'a pnpm packageManager pins no npm')
  assert.equal(warnings.length, 1)
  assert.match(warnings[0] as string, /^pnpm-lock\.yaml: detbuild prefetches npm lockfiles only/)
})

test('a build without a lockfile: the config is written and a warning says the offline install cannot work', async () => {
  const { config, warnings } = await initOf('no-lockfile', null)
  assert.equal(config.install, 'npm install --ignore-scripts --no-package-lock')
  assert.deepEqual(config.build, ['npm run build', 'mkdir -p dist', PACK])
  assert.deepEqual(config.toolchain, { node: NODE }, 'no readable running npm: npm stays "system"')
  assert.equal(warnings.length, 1)
  assert.match(warnings[0] as string, /^no lockfile: /)
})

test('a monorepo: every public workspace is packed (private "true" and negated ones are not), names quoted', async () => {
  const facts = await readProjectFacts(fixture('monorepo'), NODE, NPM)
  assert.deepEqual(
    facts.workspaces?.map((w) => [w.dir, w.private]),
    [
      ['packages/a', false],
      ['packages/b', true],
      ['packages/c', false],
      ['packages/d e', false],
    ],
    'sorted, "!packages/ignored" left out, "../outside/*" is not inside the project',
  )
  const { config, warnings } = toInitialConfig(facts)
  assert.deepEqual(config.build, [
    'npm run build --workspaces --if-present',
    'npm run prepack -w packages/c',
    'mkdir -p dist',
    `${PACK} -w packages/a -w packages/c -w 'packages/d e'`,
  ])
  assert.deepEqual(config.outputs, ['dist/*.tgz'])
  assert.deepEqual(warnings, [])
})

test('a monorepo with a public root and public workspaces packs the root, then --workspaces', () => {
  const facts: ProjectFacts = {
    packageJson: { name: 'r', scripts: { build: 'tsc -b' } },
    nvmrc: null,
    lockfiles: ['package-lock.json'],
    currentNode: NODE,
    currentNpm: NPM,
    workspaces: [
      { dir: 'packages/x', private: false, scripts: {} },
      { dir: 'packages/y', private: false, scripts: { build: 'tsc' } },
    ],
  }
  assert.deepEqual(toInitialConfig(facts).config.build, [
    'npm run build',
    'mkdir -p dist',
    PACK,
    `${PACK} --workspaces`,
  ])
  // every package private: nothing would be packed, so every workspace is
  const allPrivate: ProjectFacts = {
    ...facts,
    packageJson: { private: true },
    workspaces: (facts.workspaces ?? []).map((w) => ({ ...w, private: true })),
  }
  assert.deepEqual(toInitialConfig(allPrivate).config.build, [
    'npm run build --workspaces --if-present',
    'mkdir -p dist',
    `${PACK} --workspaces`,
  ])
})

test('workspaces without a root build: each builds with its own script name; yarn 2+ gets its own flags', () => {
  const facts: ProjectFacts = {
    packageJson: { private: true, packageManager: 'yarn@4.5.0' },
    nvmrc: null,
    lockfiles: ['yarn.lock'],
    currentNode: NODE,
    workspaces: [
      { dir: 'p/a', private: false, scripts: { build: 'tsc', compile: 'x' } },
      { dir: 'p/b', private: false, scripts: { compile: 'tsc' } },
      { dir: 'p/c', private: false, scripts: { prepare: 'tshy' } },
      { dir: 'p/d', private: false, scripts: { prepare: 'husky' } },
    ],
  }
  const { config } = toInitialConfig(facts)
  assert.deepEqual(config.build, [
    'npm run build --workspaces --if-present',
    'npm run compile -w p/b',
    'npm run prepare -w p/c',
    'mkdir -p dist',
    `${PACK} --workspaces`,
  ])
  assert.equal(config.install, 'yarn install --immutable --mode=skip-build')
  const classic = { ...facts, packageJson: { private: true, packageManager: 'yarn@1.22.22' } }
  assert.equal(toInitialConfig(classic).config.install, 'yarn install --frozen-lockfile --ignore-scripts')
})

test('lerna packages without npm workspaces: each is installed from its own lockfile, the public ones are packed', async () => {
  const project = copyFixture('single')
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'root', private: true, scripts: { build: 'lerna run tsc' } }),
  )
  writeFileSync(
    path.join(project, 'lerna.json'),
    JSON.stringify({ packages: ['packages/**/*'], version: 'independent' }),
  )
  for (const [dir, manifest, lock] of [
    ['packages/core', { name: '@x/core', scripts: { tsc: 'tsc' } }, true],
    ['packages/io', { name: '@x/io' }, false],
    ['packages/internal', { name: '@x/internal', private: true }, true],
  ] as const) {
    mkdirSync(path.join(project, dir), { recursive: true })
    writeFileSync(path.join(project, dir, 'package.json'), JSON.stringify(manifest))
    if (lock) writeFileSync(path.join(project, dir, 'package-lock.json'), '{}')
  }
  const { config } = toInitialConfig(await readProjectFacts(project, NODE, NPM))
  assert.deepEqual(config.install, [
    'npm ci --ignore-scripts',
    'cd packages/core && npm ci --ignore-scripts',
    'cd packages/internal && npm ci --ignore-scripts',
  ])
  assert.deepEqual(config.build, [
    'npm run build',
    'mkdir -p dist',
    'npm pack ./packages/core ./packages/io --ignore-scripts --pack-destination dist',
  ])
})

test('build script names are looked up in order; prepack without the build runs after it', () => {
  assert.deepEqual(toBuildScripts({ dist: 'a', bundle: 'b', compile: 'c', package: 'd' }), ['package'])
  assert.deepEqual(toBuildScripts({ bundle: 'b', dist: 'a' }), ['bundle'])
  assert.deepEqual(toBuildScripts({ dist: 'rollup -c' }), ['dist'])
  assert.deepEqual(toBuildScripts({ build: 'tsc', prepack: 'pinst --disable' }), ['build', 'prepack'])
  assert.deepEqual(toBuildScripts({ build: 'tsc', prepack: 'run-s clean build' }), ['prepack'])
  assert.deepEqual(toBuildScripts({ prepack: 'tsup' }), ['prepack'])
  // luxon: prepack repeats the build command; it runs once
  assert.deepEqual(
    toBuildScripts({ build: 'babel-node tasks/buildAll.js', prepack: 'babel-node tasks/buildAll.js ' }),
    ['prepack'],
  )
  assert.deepEqual(toBuildScripts({ build: 'tsc', prepare: 'npm run build' }), ['build'])
  assert.deepEqual(toBuildScripts({ prepare: 'node .husky/install.mjs', test: 'x' }), [])
  assert.deepEqual(toBuildScripts({}), [])
})

test('git hook installers are recognized, following npm run steps; anything else is a build', () => {
  for (const s of [
    'husky',
    'husky install',
    'lefthook install',
    'simple-git-hooks',
    'is-ci || husky install',
    'npx --no-install husky install',
    'node .husky/install.mjs',
    'git config core.hooksPath .githooks',
    'npm run hooks',
  ])
    assert.equal(isHookOnly(s, { hooks: 'husky' }), true, s)
  for (const s of ['tshy', 'husky && tsc', 'npm run build', 'npm run missing'])
    assert.equal(isHookOnly(s, { build: 'tsc' }), false, s)
  // a loop of scripts calling each other ends
  assert.equal(isHookOnly('npm run a', { a: 'npm run b', b: 'npm run a' }), false)
  assert.equal(invokesScript('npm run build -- --no-pack', 'build', {}), true)
  assert.equal(invokesScript('npm run compile:all', 'build', { 'compile:all': 'npm run build' }), true)
  assert.equal(invokesScript('oclif manifest', 'build', {}), false)
})

test('the npm pin: packageManager npm@x.y.z (with or without +sha), else the running npm, never garbage', () => {
  const base: ProjectFacts = {
    packageJson: {},
    nvmrc: null,
    lockfiles: [],
    currentNode: NODE,
    currentNpm: NPM,
  }
  const pin = (pm: unknown, currentNpm: string | null = NPM) =>
    detectNpmVersion({ ...base, packageJson: { packageManager: pm }, currentNpm })
  assert.equal(pin('npm@10.9.2'), '10.9.2')
  assert.equal(pin('npm@10.9.2+sha512.abc'), '10.9.2')
  assert.equal(pin('npm@latest'), NPM)
  assert.equal(pin('yarn@4.1.0'), NPM)
  assert.equal(pin(42), NPM)
  assert.equal(pin(undefined, 'not-a-version'), undefined)
})

test('node: .node-version and volta pin it like .nvmrc; a range the running node satisfies keeps it', () => {
  const base: ProjectFacts = { packageJson: {}, nvmrc: null, lockfiles: [], currentNode: NODE }
  const node = (facts: Partial<ProjectFacts>) =>
    (toInitialConfig({ ...base, ...facts }).config.toolchain as { node: string }).node
  assert.equal(node({ nodeVersionFile: '20.11.1\n' }), '20.11.1')
  assert.equal(node({ packageJson: { volta: { node: '22.1.0' } } }), '22.1.0')
  assert.equal(node({ nvmrc: 'lts/*', packageJson: { engines: { node: '>=18' } } }), NODE)
  assert.equal(node({ packageJson: { engines: { node: '20.0.0' } } }), '20.0.0')
})

test('a package published from a folder the build writes (semantic-release pkgRoot, publishConfig.directory) packs that folder', async () => {
  const { config } = await initOf('pkg-root')
  assert.deepEqual(config.build, [
    'npm run build',
    'mkdir -p dist',
    'npm pack ./pkg --ignore-scripts --pack-destination dist',
  ])
  const base: ProjectFacts = { packageJson: {}, nvmrc: null, lockfiles: [], currentNode: NODE }
  assert.equal(toPackRoot({ ...base, packageJson: { publishConfig: { directory: 'out/' } } }), 'out')
  assert.equal(
    toPackRoot({ ...base, releaseConfig: { plugins: [['@semantic-release/npm', { pkgRoot: 'build' }]] } }),
    'build',
  )
  for (const bad of ['../elsewhere', '/abs', '.', 'a/../..', 42])
    assert.equal(
      toPackRoot({ ...base, packageJson: { publishConfig: { directory: bad } } }),
      undefined,
      String(bad),
    )
})

test('a folder name is quoted as one shell word', () => {
  assert.equal(shellWord('packages/a-b_c.d@1'), 'packages/a-b_c.d@1')
  assert.equal(shellWord('pkgs/$(touch x)'), `'pkgs/$(touch x)'`)
  assert.equal(shellWord("it's"), `'it'\\''s'`)
})

test('detbuild init: writes the config, prints warnings on stderr; no package.json but a subfolder with one is exit 2 naming it', async () => {
  const hooks = copyFixture('hooks-only')
  const run = await runCli(['init', '-C', hooks, '--json'])
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stderr, /warning: no build script/)
  const written = JSON.parse(readFileSync(path.join(hooks, 'detbuild.config.json'), 'utf8'))
  assert.deepEqual(written.build, ['mkdir -p dist', PACK])
  const reported = JSON.parse(run.stdout).warnings
  assert.equal(reported.length, 1)
  assert.match(run.stderr, new RegExp(`warning: ${reported[0].replace(/[()]/g, '\\$&')}`))

  const sub = copyFixture('subfolder')
  const missing = await runCli(['init', '-C', sub, '--json'])
  assert.equal(missing.code, 2)
  const error = JSON.parse(missing.stdout).error
  assert.equal(error.code, 'BUILD_PACKAGE_JSON_MISSING')
  assert.deepEqual(error.details.packages, ['js'])
  assert.match(error.message, /detbuild -C js init/)
  const inSub = await runCli(['init', '-C', path.join(sub, 'js')])
  assert.equal(inSub.code, 0, inSub.stderr)

  // a workspace manifest that is not JSON is named, exit 2
  const mono = copyFixture('monorepo')
  writeFileSync(path.join(mono, 'packages', 'a', 'package.json'), '{ nope')
  const bad = await runCli(['init', '-C', mono, '--json'])
  assert.equal(bad.code, 2)
  assert.equal(JSON.parse(bad.stdout).error.code, 'BUILD_PACKAGE_JSON_INVALID')
  assert.match(bad.stdout, /packages\/a\/package\.json/)

  const lerna = copyFixture('single')
  writeFileSync(path.join(lerna, 'lerna.json'), '{ "packages": [')
  const badLerna = await runCli(['init', '-C', lerna, '--json'])
  assert.equal(badLerna.code, 2)
  assert.equal(JSON.parse(badLerna.stdout).error.code, 'BUILD_PACKAGE_JSON_INVALID')
  assert.match(badLerna.stdout, /lerna\.json/)
})

test('init → build, offline: the build runs (its husky prepare does not), every public workspace is packed', async () => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'detbuild-init-cache-'))
  temps.push(cache)
  const tarList = (file: string) =>
    execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()
  for (const [name, expected] of [
    ['single', { 'init-single-1.0.0.tgz': ['package/lib/index.js', 'package/package.json'] }],
    [
      'monorepo',
      {
        'init-a-1.0.0.tgz': ['package/lib/index.js', 'package/package.json'],
        'init-c-1.0.0.tgz': ['package/lib/index.js', 'package/manifest.json', 'package/package.json'],
        'init-d-e-1.0.0.tgz': ['package/package.json'],
      },
    ],
    ['pkg-root', { 'init-pkg-root-1.0.0.tgz': ['package/dist/index.js', 'package/package.json'] }],
  ] as const) {
    const project = makeProject(`init/${name}`)
    temps.push(path.dirname(project))
    assert.equal((await runCli(['init', '-C', project, '-q'])).code, 0)
    // the only edit: tests never reach a registry, so the toolchain is the running one
    const file = path.join(project, 'detbuild.config.json')
    writeFileSync(
      file,
      JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), toolchain: { node: 'system' } }),
    )
    const run = await runCli(['build', '-C', project, '--cache-dir', cache, '--json', '-q'])
    assert.equal(run.code, 0, run.stderr)
    const artifacts = path.join(project, '.detbuild', 'artifacts')
    assert.deepEqual(readdirSync(artifacts).sort(), Object.keys(expected).sort(), name)
    for (const [tgz, entries] of Object.entries(expected))
      assert.deepEqual(tarList(path.join(artifacts, tgz)), entries, tgz)
  }
})

test('a build that calls git gets git: true, in a git repository only; one line says where it calls git', async () => {
  const project = copyFixture('single')
  mkdirSync(path.join(project, 'build', 'tasks'), { recursive: true })
  writeFileSync(
    path.join(project, 'build', 'tasks', 'build.js'),
    "const rev = require('node:child_process').execSync('git rev-parse --short HEAD').toString()\n",
  )
  // not a git repository: nothing to give the build
  const outside = toInitialConfig(await readProjectFacts(project, NODE, NPM))
  assert.equal('git' in outside.config, false)
  assert.deepEqual(outside.warnings, [])
  execFileSync('git', ['init', '-q', project])
  const inside = toInitialConfig(await readProjectFacts(project, NODE, NPM))
  assert.equal(inside.config.git, true)
  assert.deepEqual(inside.warnings, [
    'the build calls git (build/tasks/build.js): git: true gives it a repository with the HEAD commit and its tags',
  ])
  // a script or a dependency that reads the repository counts too; a git hook installer does not
  const facts = await readProjectFacts(project, NODE, NPM)
  const manifest = facts.packageJson as Record<string, unknown>
  writeFileSync(path.join(project, 'build', 'tasks', 'build.js'), "console.log('no git here')\n")
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({
      ...manifest,
      scripts: { ...(manifest.scripts as object), version: 'git describe --tags > v.txt' },
    }),
  )
  assert.equal((await readProjectFacts(project, NODE, NPM)).gitUse, 'package.json scripts.version')
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({
      ...manifest,
      scripts: { prepare: 'git config core.hooksPath .githooks' },
      devDependencies: { 'git-rev-sync': '^3.0.0' },
    }),
  )
  assert.equal(
    (await readProjectFacts(project, NODE, NPM)).gitUse,
    'package.json devDependencies.git-rev-sync',
  )
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ ...manifest, scripts: { prepare: 'git config core.hooksPath .githooks' } }),
  )
  assert.equal((await readProjectFacts(project, NODE, NPM)).gitUse, null)
})
