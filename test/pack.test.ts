/**
 * The npm package as a user gets it: `npm pack`, then a real `npm install` of that tarball into a temporary
 * project, then `import('detbuild')` and `npx detbuild`, all without the internet.
 *
 * The install is npm's own: `npm install --save-dev ./detbuild-<version>.tgz` resolves detbuild's
 * `dependencies` from a loopback registry (test/helpers/npm-registry.ts) that serves exactly the runtime
 * closure this repository's package-lock.json installed (test/helpers/installed-packages.ts re-packs each
 * installed folder), with a fresh npm cache and empty user and global npmrc files, so nothing reaches
 * the internet and a fresh CI machine needs no warm cache. A dependency missing from `dependencies` is
 * then missing from the install (npm only installs what the package declares); an import that resolves
 * from a transitive package anyway, the second test checks statically over every compiled file.
 *
 * The package is made from dist/, which `npm run build` writes (scripts/setup.sh, `npm test` and the
 * package's `prepare` script build before): a missing or out-of-date dist/ fails here, loudly, rather than
 * testing old code. `npm pack --ignore-scripts` here, so that the test does not rebuild the checkout.
 * The bin runs the CLI bundle (dist/cli-bundle/, scripts/build-cli.ts): the last test runs it installed, on
 * every path that finds files at run time (the schemas, the worker files, the external libraries).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { rm } from 'node:fs/promises'
import { isBuiltin } from 'node:module'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import * as tar from 'tar'
import { ENTRY, OPTIONAL_ABSENT, OUTDIR, workerEntries } from '../scripts/build-cli.ts'
import { runtimePackages } from './helpers/installed-packages.ts'
import { runTraced } from './helpers/loaded-modules.ts'
import { type FakeRegistry, startRegistry } from './helpers/npm-registry.ts'
import { fixture, repoRoot as ROOT, tempDir } from './helpers/paths.ts'
import { makeZip } from './scan/helpers.ts'

const run = promisify(execFile)

interface PackageJson {
  name: string
  version: string
  bin: Record<string, string>
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  scripts: Record<string, string>
}
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson

/** npm next to the node running the tests (the layout of Node's own distribution), else npm on PATH. */
function npmCommand(): { file: string; prefix: string[] } {
  const cli = path.resolve(
    path.dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'bin',
    'npm-cli.js',
  )
  return existsSync(cli) ? { file: process.execPath, prefix: [cli] } : { file: 'npm', prefix: [] }
}

/** Files under `dir`, relative with `/`, sorted. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const full = path.join(dir, e.name)
      return e.isDirectory() ? walk(full, base) : [path.relative(base, full).split(path.sep).join('/')]
    })
    .sort()
}

/** Source text without block comments and whole-line `//` comments (TSDoc examples import 'detbuild'). */
const withoutComments = (text: string): string =>
  text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')

/** src/ files whose compiled dist/ file is missing or older: the package would carry old code. */
function staleDist(): string[] {
  return walk(path.join(ROOT, 'src'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .filter((f) => {
      const out = path.join(ROOT, 'dist', f.replace(/\.ts$/, '.js'))
      return !existsSync(out) || statSync(out).mtimeMs < statSync(path.join(ROOT, 'src', f)).mtimeMs
    })
}

const work = tempDir('detbuild-pack-')
const project = path.join(work, 'project')
const installed = path.join(project, 'node_modules', 'detbuild')
/** a network that answers nothing: npm and detbuild must not need one (the install gets the loopback registry) */
const env = {
  PATH: process.env.PATH,
  HOME: path.join(work, 'home'),
  npm_config_registry: 'http://127.0.0.1:9/',
  npm_config_offline: 'true',
  npm_config_cache: path.join(work, 'npm-cache'),
  npm_config_userconfig: path.join(work, 'home', '.npmrc'),
  npm_config_globalconfig: path.join(work, 'global-npmrc'),
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
}
let tarball = ''
const entries = new Map<string, number>()
let registry: FakeRegistry | undefined
let install = { stdout: '', stderr: '' }

before(async () => {
  for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', `${OUTDIR}/${ENTRY}.js`])
    assert.ok(existsSync(path.join(ROOT, needed)), `${needed} is missing: run npm run build before the tests`)
  const stale = staleDist()
  assert.deepEqual(stale, [], `dist/ is older than these src/ files: run npm run build (${stale.join(', ')})`)
  mkdirSync(env.HOME, { recursive: true })
  writeFileSync(env.npm_config_userconfig, '')
  writeFileSync(env.npm_config_globalconfig, '')
  mkdirSync(project, { recursive: true })
  const npm = npmCommand()
  // the tarball in the project folder, as the README's `npm install ./detbuild-<version>.tgz` has it
  const packed = await run(
    npm.file,
    [...npm.prefix, 'pack', '--json', '--ignore-scripts', '--pack-destination', project],
    { cwd: ROOT, env },
  )
  const [report] = JSON.parse(packed.stdout) as Array<{ filename: string }>
  tarball = path.join(project, report!.filename)
  await tar.t({ file: tarball, onReadEntry: (e) => entries.set(e.path, e.mode ?? 0) })
  // the install, by npm (see the header), from the loopback registry only
  registry = await startRegistry(runtimePackages(ROOT))
  writeFileSync(
    path.join(project, 'package.json'),
    `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' })}\n`,
  )
  install = await run(
    npm.file,
    [...npm.prefix, 'install', '--save-dev', '--no-audit', '--no-fund', `./${path.basename(tarball)}`],
    {
      cwd: project,
      env: { ...env, npm_config_offline: 'false', npm_config_registry: registry.url },
    },
  ).catch((e: { stderr?: string }) => assert.fail(`npm install of the tarball failed: ${e.stderr ?? e}`))
})

after(async () => {
  await registry?.close()
  await rm(work, { recursive: true, force: true })
})

test('the tarball carries the compiled package and its resources, not sources, tests, fixtures or the Action', async () => {
  const files = [...entries.keys()]
  assert.ok(
    files.every((f) => f.startsWith('package/')),
    'npm puts every file under package/',
  )
  const inside = files.map((f) => f.slice('package/'.length))
  const top = [...new Set(inside.map((f) => f.split('/')[0]))].sort()
  assert.deepEqual(top, ['LICENSE', 'README.md', 'bin', 'dist', 'package.json', 'policies', 'schema'])
  for (const needed of ['bin/detbuild.js', 'dist/index.js', 'dist/index.d.ts', `${OUTDIR}/${ENTRY}.js`])
    assert.ok(inside.includes(needed), needed)
  // resources found relative to the compiled files at run time (import.meta.url)
  // the bundle's workers sit next to its chunks, under their basenames
  for (const name of Object.keys(await workerEntries()))
    assert.ok(inside.includes(`${OUTDIR}/${name}.js`), `the bundled ${name}`)
  for (const dir of ['schema', 'policies'])
    for (const f of readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true }))
      if (f.isFile()) {
        const rel = path.relative(ROOT, path.join(f.parentPath, f.name)).split(path.sep).join('/')
        assert.ok(inside.includes(rel), rel)
      }
  // the compiled SBOM validators (schema/cyclonedx/) are found relative to dist/sbom/validate.js
  assert.ok(inside.includes('schema/cyclonedx/validate-1.6.cjs'), 'the compiled SBOM validator')
  // the Action is used from the repository (action.yml), never from npm
  assert.ok(!inside.includes('dist/action.js'), 'dist/action.js is not in the package')
  // the per-file compile of the Action and of the CLI: the bin runs the CLI bundle, and `exports` reaches neither
  const unreachable = inside.filter((f) => f.startsWith('dist/action/') || f.startsWith('dist/cli/'))
  assert.deepEqual(unreachable, [], 'no dist/action/ or dist/cli/')
  const unwanted = inside.filter((f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.includes('.test.'))
  assert.deepEqual(unwanted, [], 'no TypeScript sources or tests')
  assert.equal((entries.get('package/bin/detbuild.js') ?? 0) & 0o111, 0o111, 'the bin is executable')
})

test('npm installed the tarball and its whole dependency tree from the loopback registry', () => {
  // installed as a copy, saved as the README says, its bin linked by npm
  assert.ok(
    lstatSync(installed).isDirectory() && !lstatSync(installed).isSymbolicLink(),
    'a copy, not a link',
  )
  const consumer = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')) as PackageJson
  assert.equal(consumer.devDependencies.detbuild, `file:${path.basename(tarball)}`)
  assert.ok(existsSync(path.join(project, 'node_modules', '.bin', 'detbuild')), 'npm linked the bin')
  assert.match(install.stdout, /added \d+ packages/)
  // every other package came from the registry (nothing from this checkout, nothing from the internet),
  // and every declared dependency is in the tree
  const lock = JSON.parse(readFileSync(path.join(project, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; resolved?: string; integrity?: string }>
  }
  const fromElsewhere = Object.entries(lock.packages)
    .filter(([where]) => where.startsWith('node_modules/') && where !== 'node_modules/detbuild')
    .filter(([, entry]) => !entry.resolved?.startsWith(registry!.url) || !entry.integrity)
    .map(([where, entry]) => `${where} ${entry.resolved}`)
  assert.deepEqual(fromElsewhere, [], 'resolved from the loopback registry, with an integrity')
  assert.ok(registry!.requests.tarballs > 50, `tarballs fetched: ${registry!.requests.tarballs}`)
  for (const dep of Object.keys(pkg.dependencies))
    assert.ok(lock.packages[`node_modules/${dep}`]?.version, `${dep} is installed at the top level`)
  // the build and lint tools are not (a devDependency some runtime package also needs, @types/node, may be)
  const tools = ['typescript', 'esbuild', '@biomejs/biome', 'knip', 'fast-check', '@sigstore/mock']
  assert.ok(
    tools.every((t) => Object.hasOwn(pkg.devDependencies, t)),
    'the tools are devDependencies',
  )
  assert.deepEqual(
    tools.filter((dep) => Object.keys(lock.packages).some((where) => where.endsWith(`node_modules/${dep}`))),
    [],
    'no build tool is installed',
  )
})

test('the manifest is publishable: npm publish --dry-run passes without warnings, and prepare builds dist/', async () => {
  // pack and publish run `prepare` (and a git install runs it after installing the devDependencies): the build
  assert.equal(pkg.scripts.prepare, 'npm run build')
  const npm = npmCommand()
  const dry = await run(npm.file, [...npm.prefix, 'publish', '--dry-run', '--ignore-scripts', '--json'], {
    cwd: ROOT,
    env,
  })
  const published = JSON.parse(dry.stdout) as Record<string, { name: string; files: Array<{ path: string }> }>
  const report = Object.values(published)[0]!
  assert.equal(report.name, 'detbuild')
  assert.ok(report.files.some((f) => f.path === 'bin/detbuild.js'))
  // npm warns when it had to correct the manifest (a bin path, a repository URL) or dropped a file;
  // the only warning left is that a dry run is not logged in
  const warnings = dry.stderr.split('\n').filter((l) => /^npm (warn|WARN)/.test(l) && !/logged in/.test(l))
  assert.deepEqual(warnings, [], dry.stderr)
  const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >
  for (const field of ['name', 'version', 'description', 'license', 'bin', 'engines', 'files', 'exports'])
    assert.ok(manifest[field], `package.json has ${field}`)
})

test('every package the compiled code imports is a declared dependency', () => {
  const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as PackageJson
  assert.equal(manifest.name, 'detbuild')
  assert.equal(manifest.version, pkg.version)
  const imported = new Map<string, string>()
  // counted apart: the map keeps only the last file importing a name, which may lie outside the bundle
  let bundleImports = 0
  // a specifier has no white space and starts like a package name or a path: prose in a string (a hint
  // that says "…came from", a schema description ending in 'from"},…') is not an import
  const specifier =
    /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*|createRequire\([^)]*\)\(\s*)['"]([@\w.][^'"\s]*)['"]/g
  const code = walk(installed).filter((f) => f.endsWith('.js'))
  assert.ok(code.length > 50, `compiled files found (${code.length})`)
  for (const file of code)
    for (const m of withoutComments(readFileSync(path.join(installed, file), 'utf8')).matchAll(specifier)) {
      const spec = m[1]!
      if (spec.startsWith('.') || isBuiltin(spec)) continue
      const parts = spec.split('/')
      const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
      // a bundled library's optional load of a package that is not installed (the build allows only these)
      if (file.startsWith(`${OUTDIR}/`) && Object.hasOwn(OPTIONAL_ABSENT, name)) continue
      imported.set(name, file)
      if (file.startsWith(`${OUTDIR}/`)) bundleImports++
    }
  // the scan is not vacuous: it finds static, dynamic and createRequire imports
  for (const known of ['@cyclonedx/cyclonedx-library', 'pacote', 'spdx-expression-parse'])
    assert.ok(imported.has(known), `finds ${known}`)
  assert.ok(bundleImports > 0, 'the bundle loads external packages too (scanned)')
  const undeclared = [...imported].filter(([name]) => !Object.hasOwn(manifest.dependencies, name))
  assert.deepEqual(undeclared, [], 'imported by dist/ but not in "dependencies"')
})

test("import('detbuild') in a project that installed the tarball gives the API, and it runs", async () => {
  writeFileSync(
    path.join(project, 'consumer.mjs'),
    [
      "import * as api from 'detbuild'",
      "import manifest from 'detbuild/package.json' with { type: 'json' }",
      "import policySchema from 'detbuild/schema/policy.schema.json' with { type: 'json' }",
      'const lines = []',
      'const log = api.createLogger({ write: (line) => lines.push(line) })',
      "log.info('hello from the tarball')",
      "const error = new api.InputError('PACK_TEST', 'bad input')",
      'console.log(JSON.stringify({',
      '  version: api.VERSION,',
      '  manifestVersion: manifest.version,',
      "  resolved: import.meta.resolve('detbuild'),",
      "  functions: Object.keys(api).filter((k) => typeof api[k] === 'function').sort(),",
      '  lines,',
      '  isDetbuildError: api.isDetbuildError(error),',
      '  exitCode: error.exitCode,',
      '  schemaTitle: typeof policySchema.title,',
      '}))',
      '',
    ].join('\n'),
  )
  const { stdout } = await run(process.execPath, ['consumer.mjs'], { cwd: project, env })
  const got = JSON.parse(stdout) as {
    version: string
    manifestVersion: string
    resolved: string
    functions: string[]
    lines: string[]
    isDetbuildError: boolean
    exitCode: number
    schemaTitle: string
  }
  assert.equal(got.version, pkg.version)
  assert.equal(got.manifestVersion, pkg.version)
  // the installed copy, not this checkout
  assert.equal(new URL(got.resolved).pathname, path.join(installed, 'dist', 'index.js'))
  for (const name of [
    'runBuild',
    'runSbom',
    'runScan',
    'runPolicy',
    'signWorkspace',
    'createEvidenceBundle',
    'verifyEvidence',
    'inspectEvidence',
    'verifyArtifact',
    'runDetbuild',
    'createLogger',
    'isDetbuildError',
  ])
    assert.ok(got.functions.includes(name), name)
  assert.ok(
    got.lines.some((l) => l.includes('hello from the tarball')),
    `the logger wrote: ${got.lines}`,
  )
  assert.equal(got.isDetbuildError, true)
  assert.equal(got.exitCode, 2)
  assert.equal(got.schemaTitle, 'string')
})

test('npx detbuild in that project runs the installed bin: --version, a validated SBOM and an offline scan', async () => {
  const npm = npmCommand()
  const npx = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    run(npm.file, [...npm.prefix, 'exec', '--offline', '--no', '--', 'detbuild', ...args], {
      cwd: project,
      env: { ...env, ...extraEnv },
    })
  assert.equal((await npx(['--version'])).stdout.trim(), pkg.version)
  // the installed bin runs the installed bundle, nothing from this checkout
  const traced = await runTraced(path.join(project, 'node_modules', '.bin', 'detbuild'), ['--version'], {
    cwd: project,
    env,
  })
  assert.equal(traced.stdout.trim(), pkg.version)
  const bundleUrl = pathToFileURL(path.join(installed, OUTDIR)).href
  assert.ok(traced.files.includes(`${bundleUrl}/${ENTRY}.js`), 'the bin loads the bundle')
  assert.deepEqual(
    traced.files.filter((u) => !u.startsWith(`${bundleUrl}/`) && !u.endsWith('/bin/detbuild.js')),
    [],
    '--version loads nothing but the bundle',
  )
  // the README's first step, as written: `npx detbuild sbom` in the project that installed it
  const npxCli = path.join(path.dirname(npm.prefix[0] ?? ''), 'npx-cli.js')
  const own = await run(
    npm.prefix.length ? npm.file : 'npx',
    [...(npm.prefix.length ? [npxCli] : []), 'detbuild', 'sbom'],
    { cwd: project, env: { ...env, SOURCE_DATE_EPOCH: '1700000000' } },
  )
  assert.match(own.stdout, /\bsbom\.cdx\.json\b/, own.stdout)
  const ownBom = JSON.parse(readFileSync(path.join(project, '.detbuild', 'sbom.cdx.json'), 'utf8')) as {
    metadata: { component: { name: string } }
    components: Array<{ name: string; version: string; scope?: string }>
  }
  assert.equal(ownBom.metadata.component.name, 'consumer')
  const listed = ownBom.components.find((c) => c.name === 'detbuild')
  assert.equal(listed?.version, pkg.version, 'the SBOM lists the installed detbuild')
  for (const dep of ['commander', '@sigstore/sign', 'pacote'])
    assert.ok(
      ownBom.components.some((c) => `${c.name}` === dep || c.name === dep.split('/')[1]),
      `the SBOM lists ${dep}`,
    )
  // a real step through the bin: the compiled CycloneDX validator, the worker, the XML schemas and the dependencies,
  // all found from the install
  const app = path.join(work, 'small-app')
  cpSync(fixture('small-app'), app, { recursive: true })
  const out = path.join(work, 'sbom-out')
  const sbom = await npx(['sbom', '-C', app, '--out', out, '--format', 'both', '--json'], {
    SOURCE_DATE_EPOCH: '1700000000',
  })
  const result = JSON.parse(sbom.stdout) as { validation: { json: { ok: unknown }; xml: { ok: unknown } } }
  assert.deepEqual(result.validation, { json: { ok: true }, xml: { ok: true } }, 'both files schema-valid')
  const bom = JSON.parse(readFileSync(path.join(out, 'sbom.cdx.json'), 'utf8')) as {
    metadata: { timestamp: string; tools: { components: Array<{ name: string; version: string }> } }
    components: unknown[]
  }
  assert.equal(bom.metadata.timestamp, '2023-11-14T22:13:20.000Z')
  assert.ok(
    bom.metadata.tools.components.some((t) => t.name === 'detbuild' && t.version === pkg.version),
    'made by the installed detbuild',
  )
  assert.ok(bom.components.length > 0, 'components')
  // an offline scan of a vulnerable project against an OSV export (zip), as the installed CLI runs it
  const vulnerable = path.join(work, 'vulnerable-app')
  cpSync(fixture('vulnerable-app'), vulnerable, { recursive: true })
  await npx(['sbom', '-C', vulnerable, '-q'], { SOURCE_DATE_EPOCH: '1700000000' })
  const records = path.join(ROOT, 'fixtures', 'osv', 'records')
  const exportZip = path.join(work, 'osv-export.zip')
  writeFileSync(
    exportZip,
    makeZip(
      readdirSync(records)
        .sort()
        .map((name) => ({ name, data: readFileSync(path.join(records, name)) })),
    ),
  )
  const scan = JSON.parse(
    (
      await npx(['scan', '-C', vulnerable, '--offline-db', exportZip, '--json'], {
        SOURCE_DATE_EPOCH: '1700000000',
      })
    ).stdout,
  ) as { complete: boolean; findings: Array<{ id: string; name: string }> }
  assert.equal(scan.complete, true)
  assert.ok(
    scan.findings.some((f) => f.id === 'GHSA-29mw-wpgm-hmr9' && f.name === 'lodash'),
    `the lodash advisory is found: ${scan.findings.map((f) => f.id)}`,
  )
})
