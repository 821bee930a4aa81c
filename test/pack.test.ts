/**
 * The npm package as a user gets it: `npm pack`, installed into a temporary project, then
 * `import('detbuild')` and the installed `detbuild` bin, all without a network.
 *
 * The install is done by hand, the way npm lays a package out: the tarball unpacked into
 * `node_modules/detbuild`, its `bin` linked in `node_modules/.bin`, and each of its declared
 * `dependencies` linked from this repository's node_modules (installed from the lockfile; a real
 * install resolves the same ranges). `npm install <tarball>` would need a registry for ~300 packages
 * (`--offline` only works with a warm npm cache, which a fresh CI machine does not have). What the
 * shortcut cannot see, an undeclared import that happens to resolve from the repository's hoisted
 * tree, the second test checks statically over every compiled file.
 *
 * The package is made from dist/, which `npm run build` writes (scripts/setup.sh and `npm test` build
 * before the tests): a missing or out-of-date dist/ fails here, loudly, rather than testing old code.
 * The bin runs the CLI bundle (dist/cli-bundle/, scripts/build-cli.ts): the last test runs it installed, on
 * every path that finds files at run time (the schemas, the worker files, the external libraries).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
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
import { runTraced } from './helpers/loaded-modules.ts'
import { fixture, repoRoot as ROOT, tempDir } from './helpers/paths.ts'
import { makeZip } from './scan/helpers.ts'

const run = promisify(execFile)

interface PackageJson {
  name: string
  version: string
  bin: Record<string, string>
  dependencies: Record<string, string>
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
/** a network that answers nothing: npm and detbuild must not need one */
const env = {
  PATH: process.env.PATH,
  HOME: path.join(work, 'home'),
  npm_config_registry: 'http://127.0.0.1:9/',
  npm_config_offline: 'true',
  npm_config_cache: path.join(work, 'npm-cache'),
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
}
let tarball = ''
const entries = new Map<string, number>()

before(async () => {
  for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', `${OUTDIR}/${ENTRY}.js`])
    assert.ok(existsSync(path.join(ROOT, needed)), `${needed} is missing: run npm run build before the tests`)
  const stale = staleDist()
  assert.deepEqual(stale, [], `dist/ is older than these src/ files: run npm run build (${stale.join(', ')})`)
  mkdirSync(env.HOME, { recursive: true })
  const npm = npmCommand()
  const packed = await run(npm.file, [...npm.prefix, 'pack', '--json', '--pack-destination', work], {
    cwd: ROOT,
    env,
  })
  const [report] = JSON.parse(packed.stdout) as Array<{ filename: string }>
  tarball = path.join(work, report!.filename)
  await tar.t({ file: tarball, onReadEntry: (e) => entries.set(e.path, e.mode ?? 0) })
  // the install, as npm does it (see the header): unpack, link the bin, link the dependencies
  mkdirSync(installed, { recursive: true })
  await tar.x({ file: tarball, cwd: installed, strip: 1 })
  writeFileSync(
    path.join(project, 'package.json'),
    `${JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { detbuild: pkg.version } })}\n`,
  )
  const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as PackageJson
  for (const dep of Object.keys(manifest.dependencies)) {
    const link = path.join(project, 'node_modules', dep)
    mkdirSync(path.dirname(link), { recursive: true })
    assert.ok(existsSync(path.join(ROOT, 'node_modules', dep)), `${dep} is installed (npm ci)`)
    symlinkSync(path.join(ROOT, 'node_modules', dep), link, 'dir')
  }
  mkdirSync(path.join(project, 'node_modules', '.bin'))
  for (const [name, file] of Object.entries(manifest.bin))
    symlinkSync(path.join('..', 'detbuild', file), path.join(project, 'node_modules', '.bin', name))
})

after(() => rm(work, { recursive: true, force: true }))

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
  const unwanted = inside.filter((f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.includes('.test.'))
  assert.deepEqual(unwanted, [], 'no TypeScript sources or tests')
  assert.equal((entries.get('package/bin/detbuild.js') ?? 0) & 0o111, 0o111, 'the bin is executable')
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
