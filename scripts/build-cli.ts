/**
 * Builds the CLI bundle, dist/cli-bundle/, from src/cli/main.ts with esbuild, reproducibly: fixed options,
 * paths relative to the repository, no timestamps, the same bytes on every build (a test builds twice).
 * `npm run build` runs it after tsc; bin/detbuild.js loads dist/cli-bundle/detbuild.js. The per-file tsc
 * output in dist/ stays the programmatic API (`import('detbuild')`).
 *
 *   node scripts/build-cli.ts            write dist/cli-bundle/ (removing what an earlier build left there)
 *
 * Why a bundle: most of a short run is module loading, and loading hundreds of small files (resolving
 * each specifier, reading each package.json) costs more than compiling the same code from a few files.
 * The bundle is split (ESM, code splitting): the entry chunk holds what every command needs (the
 * program, the options, the error reporting); each command's core and the libraries only it uses sit in
 * chunks that load when that command runs (the `await import()` in src/cli/commands/*.ts).
 *
 * What must still be found at run time, from an installed package as from this checkout:
 * - first-party files find resources relative to `import.meta.url` (`new URL('../../schema/…', …)`,
 *   `new URL('./x-worker.js', …)`): the chunks sit two folders below the package root, as a file in
 *   src/<folder>/ does, so those URLs resolve unchanged; a file at another depth gets its source location's
 *   equivalent, and must not start a worker (the build fails if it does);
 * - every `src/**\/*-worker.ts` is its own entry, written next to the chunks under its basename, so a
 *   caller's `new URL('./x-worker.js', import.meta.url)` finds the bundled worker (a clash fails the build);
 * - packages that read their own files or carry native code stay external (EXTERNAL below, each with
 *   its reason) and load from node_modules as in the unbundled build; a bundled package must not import
 *   an external one (its version could differ from the one found from the bundle's folder), and a bundled
 *   package that reaches for its own files (`__dirname`, `import.meta.url`, `require.resolve`) fails the
 *   build unless it is listed in OWN_FILES_OK with the reason it is harmless.
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { isBuiltin } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'
import { FIXED_BUNDLE_OPTIONS, NODE_SHIMS, ROOT, staticRequires, userlandPunycode } from './build-action.ts'

export const OUTDIR = 'dist/cli-bundle'
/** the entry bin/detbuild.js imports: dist/cli-bundle/detbuild.js */
export const ENTRY = 'detbuild'

/**
 * Packages loaded from node_modules at run time, not bundled: measured or needed. The pack test checks
 * every one is a declared dependency; the build checks no bundled package imports one.
 */
const EXTERNAL: Record<string, string> = {
  '@cyclonedx/cyclonedx-library':
    'reads its JSON and XML schemas from its package folder; libxmljs2 (native, optional) is found from it',
  'xmllint-wasm': 'starts a worker file and reads xmllint.wasm from its package folder',
  '@npmcli/arborist':
    'large (pacote, sigstore, the npm fetch stack) and only loaded for v1 lockfiles and --from installed',
  pacote: 'runs lifecycle scripts with @npmcli/run-script, which finds node-gyp from its package folder',
}

/**
 * Optional packages a bundled library tries to load inside a `try` (esbuild leaves such a load as it is
 * when the package is not installed). Any other import esbuild cannot resolve fails the build.
 */
export const OPTIONAL_ABSENT: Record<string, string> = {
  kerberos:
    "proxy-agent-negotiate's Kerberos proxy authentication (the npm fetch stack), off unless installed",
  'supports-color': "debug's colour detection, plain output without it",
}

/**
 * Bundled packages whose code mentions their own location, checked harmless: a package not listed here
 * that does fails the build (bundled, its `__dirname` would be dist/cli-bundle/).
 */
const OWN_FILES_OK: Record<string, string> = {}

/**
 * Exact rewrites of bundled library files (path below node_modules/); the build fails when a pattern is not
 * found exactly once (the library changed: look again). Only loads are moved, no behaviour changes.
 */
const PATCHES: Array<{ file: string; find: string; replace: string; why: string }> = [
  {
    file: 'commander/lib/command.js',
    find: "import childProcess from 'node:child_process';",
    replace: "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
    why: 'node:child_process (~10 ms to load) is for executable subcommands, which detbuild has none of',
  },
  {
    file: 'commander/lib/command.js',
    find: "import { stripVTControlCharacters } from 'node:util';",
    replace: "const stripVTControlCharacters = (s) => require('node:util').stripVTControlCharacters(s);",
    why: 'node:util (~10 ms to load) is needed only to measure help and error text',
  },
  {
    file: 'commander/lib/help.js',
    find: "import { stripVTControlCharacters } from 'node:util';",
    replace: "const stripVTControlCharacters = (s) => require('node:util').stripVTControlCharacters(s);",
    why: 'as above: only help output measures text',
  },
]

function applyPatches(rel: string, text: string): string | undefined {
  const at = rel.lastIndexOf('node_modules/')
  const under = at < 0 ? undefined : rel.slice(at + 'node_modules/'.length)
  const mine = PATCHES.filter((p) => p.file === under)
  if (mine.length === 0) return undefined
  let out = text
  for (const p of mine) {
    const count = out.split(p.find).length - 1
    if (count !== 1) throw new Error(`build-cli: patch for ${p.file} matched ${count} times (${p.why})`)
    out = out.replace(p.find, p.replace)
  }
  return out
}

const BANNER = [
  '// detbuild CLI, bundled by scripts/build-cli.ts from src/cli/main.ts. Do not edit.',
  ...NODE_SHIMS,
].join('\n')

const posix = (p: string) => p.split(path.sep).join('/')

/** The package a node_modules path or a bare specifier names (`@scope/name` or `name`). */
function packageName(spec: string): string {
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}
function packageOfFile(rel: string): string | undefined {
  const at = rel.lastIndexOf('node_modules/')
  return at < 0 ? undefined : packageName(rel.slice(at + 'node_modules/'.length))
}

/** Every `src/**\/*-worker.ts`, keyed by its output name (see {@link workerEntryMap}). */
export async function workerEntries(): Promise<Record<string, string>> {
  return workerEntryMap(
    (await readdir(path.join(ROOT, 'src'), { recursive: true })).map((f) => `src/${posix(f)}`),
  )
}

/**
 * The worker files among `files` (repository paths), keyed by basename: the name the bundle writes each under
 * and its callers look for (`new URL('./x-worker.js', import.meta.url)`). Two with one basename (or one named
 * like the CLI entry) fail the build: one would overwrite the other.
 */
export function workerEntryMap(files: readonly string[]): Record<string, string> {
  const entries: Record<string, string> = {}
  for (const f of files.filter((x) => /^src\/(.+\/)?[^/]+-worker\.ts$/.test(x)).sort()) {
    const name = path.posix.basename(f, '.ts')
    if (Object.hasOwn(entries, name) || name === ENTRY)
      throw new Error(
        `build-cli: two entries would be written as ${OUTDIR}/${name}.js (${f} and ${entries[name] ?? 'the CLI entry'}): rename one`,
      )
    entries[name] = f
  }
  return entries
}

/**
 * `import.meta.url` of a first-party file inside the bundle: unchanged for src/<folder>/<file>.ts (the chunk
 * is at the same depth below the package root); otherwise an expression for the equivalent location.
 */
function rewriteImportMeta(rel: string, text: string): string {
  const depth = rel.split('/').length - 1 // src/a/b.ts → 2
  if (depth === 2 || !text.includes('import.meta.url')) return text
  if (/-worker\b/.test(text))
    throw new Error(
      `build-cli: ${rel} uses import.meta.url and names a worker: only files directly in a src/<folder>/ can start workers from the bundle`,
    )
  const up = depth < 2 ? '../'.repeat(2 - depth) : './'
  const down = rel.split('/').slice(2, -1).join('/')
  const virtual = `${up}${down ? `${down}/` : ''}${path.posix.basename(rel, '.ts')}.js`
  return text.replaceAll('import.meta.url', `new URL(${JSON.stringify(virtual)}, import.meta.url).href`)
}

const OWN_LOCATION = /\b__dirname\b|\b__filename\b|\bimport\.meta\.url\b|\brequire\.resolve\s*\(/

/** What the plugin found while building: problems fail the build; `patched` proves each patch was used. */
interface BuildState {
  problems: string[]
  patched: Set<string>
}

function plugin({ problems, patched: patchedFiles }: BuildState): esbuild.Plugin {
  return {
    name: 'detbuild-cli',
    setup(build) {
      build.onResolve({ filter: /^punycode$/ }, userlandPunycode)
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || args.kind === 'entry-point') return undefined
        const name = packageName(args.path)
        if (!Object.hasOwn(EXTERNAL, name)) return undefined
        const importer = posix(path.relative(ROOT, args.importer))
        const from = packageOfFile(importer)
        if (from !== undefined && !Object.hasOwn(EXTERNAL, from))
          problems.push(`${importer} (bundled ${from}) imports external ${name}: make ${from} external too`)
        return { path: args.path, external: true }
      })
      build.onLoad({ filter: /\.(ts|js|cjs|mjs)$/ }, async (args) => {
        const rel = posix(path.relative(ROOT, args.path))
        const text = await readFile(args.path, 'utf8')
        if (rel.startsWith('src/')) {
          // a runtime require from the source folder is a static one in the bundle (the package is bundled)
          const out = rewriteImportMeta(rel, staticRequires(text))
          return {
            contents: out,
            loader: rel.endsWith('.ts') ? 'ts' : 'js',
            resolveDir: path.dirname(args.path),
          }
        }
        const pkg = packageOfFile(rel)
        if (pkg !== undefined && !Object.hasOwn(OWN_FILES_OK, pkg) && OWN_LOCATION.test(text))
          problems.push(
            `${rel} (bundled ${pkg}) refers to its own location: make ${pkg} external or list it in OWN_FILES_OK`,
          )
        const patched = applyPatches(rel, text)
        if (patched === undefined) return undefined
        patchedFiles.add(rel.slice(rel.lastIndexOf('node_modules/') + 'node_modules/'.length))
        return { contents: patched, loader: 'js', resolveDir: path.dirname(args.path) }
      })
    },
  }
}

/** The fixed build options: nothing here depends on the machine, the time or the environment. */
export async function cliBuildOptions(state: BuildState): Promise<esbuild.BuildOptions> {
  return {
    ...FIXED_BUNDLE_OPTIONS,
    entryPoints: { [ENTRY]: 'src/cli/main.ts', ...(await workerEntries()) },
    outdir: OUTDIR,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    splitting: true,
    target: 'node22',
    banner: { js: BANNER },
    write: false,
    plugins: [plugin(state)],
  }
}

export interface CliBundle {
  /** output files relative to OUTDIR, sorted, with their bytes */
  files: Array<{ name: string; bytes: Uint8Array }>
  warnings: string[]
  inputs: number
}

/** Builds in memory; fails on any problem the plugin found. */
export async function buildCli(): Promise<CliBundle> {
  const state: BuildState = { problems: [], patched: new Set() }
  const result = await esbuild.build(await cliBuildOptions(state))
  const { problems } = state
  const manifest = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>
  }
  for (const name of Object.keys(EXTERNAL))
    if (!Object.hasOwn(manifest.dependencies, name))
      problems.push(`${name} is external but not in package.json's dependencies: an install would lack it`)
  for (const [input, { imports }] of Object.entries(result.metafile?.inputs ?? {}))
    for (const i of imports) {
      if (!i.external || isBuiltin(i.path)) continue
      const name = packageName(i.path)
      const optional = Object.hasOwn(OPTIONAL_ABSENT, name) && i.kind !== 'import-statement'
      if (!Object.hasOwn(EXTERNAL, name) && !optional)
        problems.push(
          `${input} imports ${i.path}, which is neither bundled nor listed in EXTERNAL or OPTIONAL_ABSENT`,
        )
    }
  for (const p of PATCHES)
    if (!state.patched.has(p.file))
      problems.push(`the patch for ${p.file} was not used (${p.why}): is it still bundled?`)
  if (problems.length) throw new Error(`build-cli:\n  ${[...new Set(problems)].sort().join('\n  ')}`)
  const outdir = path.join(ROOT, OUTDIR)
  const files = (result.outputFiles ?? [])
    .map((f) => ({ name: posix(path.relative(outdir, f.path)), bytes: f.contents }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  if (!files.some((f) => f.name === `${ENTRY}.js`)) throw new Error('build-cli: esbuild wrote no entry')
  // no host path may leak into what ships
  const leak = files.find((f) => Buffer.from(f.bytes).includes(ROOT))
  if (leak) throw new Error(`build-cli: ${OUTDIR}/${leak.name} contains the build folder's path (${ROOT})`)
  const warnings = (await esbuild.formatMessages(result.warnings, { kind: 'warning', color: false })).map(
    (w) => w.trim(),
  )
  return { files, warnings, inputs: Object.keys(result.metafile?.inputs ?? {}).length }
}

/** One sha256 over the names and bytes of every output file: equal bundles, equal digests. */
export function bundleDigest(files: CliBundle['files']): string {
  const hash = createHash('sha256')
  for (const f of files) hash.update(`${f.name}\0${f.bytes.byteLength}\0`).update(f.bytes)
  return hash.digest('hex')
}

async function main(): Promise<number> {
  const { files, warnings, inputs } = await buildCli()
  for (const w of warnings) process.stderr.write(`${w}\n`)
  const outdir = path.join(ROOT, OUTDIR)
  await rm(outdir, { recursive: true, force: true })
  await mkdir(outdir, { recursive: true })
  for (const f of files) await writeFile(path.join(outdir, f.name), f.bytes)
  const size = files.reduce((n, f) => n + f.bytes.byteLength, 0)
  process.stdout.write(
    `wrote ${OUTDIR}/: ${files.length} files, ${size} bytes from ${inputs} inputs, sha256 ${bundleDigest(files)}\n`,
  )
  return 0
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = await main()
