/**
 * Builds the GitHub Action's single file, dist/action.js, from src/action/main.ts with esbuild,
 * reproducibly: fixed options, paths relative to the repository, no timestamps, licences kept at the end.
 *
 *   node scripts/build-action.ts           write dist/action.js
 *   node scripts/build-action.ts --check   exit 1 when the committed dist/action.js differs from a fresh build
 *                                          (its own CI step in scripts/setup.sh test, not a unit test)
 *
 * A node24 action has no node_modules, so the bundle must not reach for files at run time that only
 * exist in a development checkout. Two things need help, each done by a plugin below:
 * - first-party files find resources (schema/, policies/) relative to `import.meta.url`: each gets the URL
 *   of its own source path, so `new URL('../../schema/…', …)` lands in the action's checkout as in the repo;
 * - @cyclonedx/cyclonedx-library reads its JSON schemas from its package folder: they are embedded.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const OUTFILE = 'dist/action.js'

/** The CycloneDX schemas detbuild can validate against (spec 1.4–1.6) and the schemas they reference. */
const CDX_SCHEMAS = [
  'bom-1.4.SNAPSHOT.schema.json',
  'bom-1.5.SNAPSHOT.schema.json',
  'bom-1.6.SNAPSHOT.schema.json',
  'cryptography-defs.SNAPSHOT.schema.json',
  'jsf-0.82.SNAPSHOT.schema.json',
  'spdx.SNAPSHOT.schema.json',
]
const CDX_SCHEMA_DIR = 'node_modules/@cyclonedx/cyclonedx-library/res/schema'

/** Exact source rewrites; the build fails when a pattern is not found exactly once (the source moved). */
const PATCHES: Array<{ file: string; find: string; replace: string; why: string }> = [
  {
    file: 'node_modules/@cyclonedx/cyclonedx-library/dist.node/_optPlug.node/__jsonValidators/ajv.js',
    find: 'require("node:fs/promises")',
    replace: 'require("detbuild:cdx-schemas")',
    why: 'the JSON schemas are embedded instead of read from the package folder',
  },
]

/** What bundled CommonJS code expects of a module scope, for an ESM bundle (the CLI bundle shares it). */
export const NODE_SHIMS = [
  "import { createRequire as __detbuildCreateRequire } from 'node:module';",
  "import { dirname as __detbuildDirname } from 'node:path';",
  "import { fileURLToPath as __detbuildFileURLToPath } from 'node:url';",
  'const require = __detbuildCreateRequire(import.meta.url);',
  'const __filename = __detbuildFileURLToPath(import.meta.url);',
  'const __dirname = __detbuildDirname(__filename);',
]

const BANNER = [
  '// detbuild GitHub Action, bundled by scripts/build-action.ts from src/action/main.ts. Do not edit.',
  ...NODE_SHIMS,
  "const __detbuildSourceUrl = (rel) => new URL('../' + rel, import.meta.url).href;",
].join('\n')

/** node's own punycode module is deprecated (a warning on every run); the userland copy is the same code */
export const userlandPunycode = () => ({ path: path.join(ROOT, 'node_modules', 'punycode', 'punycode.js') })

/**
 * A first-party `createRequire(import.meta.url)('x')` (a synchronous load on first use) becomes a plain
 * `require('x')`, which the bundle resolves at build time: a runtime require from the source folder would
 * need node_modules. The CLI bundle does the same.
 */
export const staticRequires = (text: string): string =>
  text.replace(/createRequire\(import\.meta\.url\)\((['"][^'"]+['"])\)/g, 'require($1)')

function applyPatches(rel: string, text: string): string {
  let out = text
  for (const p of PATCHES.filter((x) => x.file === rel)) {
    const count = out.split(p.find).length - 1
    if (count !== 1) throw new Error(`build-action: patch for ${rel} matched ${count} times (${p.why})`)
    out = out.replace(p.find, p.replace)
  }
  return out
}

const plugin: esbuild.Plugin = {
  name: 'detbuild-action',
  setup(build) {
    // node's own punycode module is deprecated (a warning on every run); the userland copy is the same code
    build.onResolve({ filter: /^punycode$/ }, userlandPunycode)
    build.onResolve({ filter: /^detbuild:cdx-schemas$/ }, () => ({
      path: 'cdx-schemas',
      namespace: 'detbuild',
    }))
    build.onLoad({ filter: /.*/, namespace: 'detbuild' }, async () => {
      const entries: string[] = []
      for (const name of CDX_SCHEMAS) {
        const text = await readFile(path.join(ROOT, CDX_SCHEMA_DIR, name), 'utf8')
        entries.push(`  ${JSON.stringify(name)}: ${JSON.stringify(text)}`)
      }
      return {
        loader: 'js',
        resolveDir: ROOT,
        contents: [
          'const schemas = {',
          entries.join(',\n'),
          '};',
          'export async function readFile(file) {',
          '  const name = String(file).split(/[\\\\/]/).pop();',
          '  if (Object.hasOwn(schemas, name)) return schemas[name];',
          "  throw Object.assign(new Error('schema not embedded in the action: ' + name), { code: 'ENOENT' });",
          '}',
        ].join('\n'),
      }
    })
    build.onLoad({ filter: /\.(ts|js)$/ }, async (args) => {
      const rel = path.relative(ROOT, args.path).split(path.sep).join('/')
      const firstParty = rel.startsWith('src/')
      const patched = PATCHES.some((p) => p.file === rel)
      if (!firstParty && !patched) return undefined
      let text = applyPatches(rel, await readFile(args.path, 'utf8'))
      if (firstParty)
        text = staticRequires(text).replaceAll(
          'import.meta.url',
          `__detbuildSourceUrl(${JSON.stringify(rel)})`,
        )
      return {
        contents: text,
        loader: rel.endsWith('.ts') ? 'ts' : 'js',
        resolveDir: path.dirname(args.path),
      }
    })
  },
}

/** The esbuild options both bundles (the Action and the CLI) share: nothing depends on the machine or the time. */
export const FIXED_BUNDLE_OPTIONS = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  mainFields: ['module', 'main'],
  conditions: ['node', 'import'],
  charset: 'utf8',
  legalComments: 'eof',
  sourcemap: false,
  minifySyntax: true,
  minifyWhitespace: true,
  minifyIdentifiers: false,
  keepNames: false,
  treeShaking: true,
  logLevel: 'silent',
  metafile: true,
} satisfies esbuild.BuildOptions

/** The fixed build options: nothing here depends on the machine, the time or the environment. */
export function actionBuildOptions(): esbuild.BuildOptions {
  return {
    ...FIXED_BUNDLE_OPTIONS,
    entryPoints: ['src/action/main.ts'],
    outfile: OUTFILE,
    target: 'node24',
    banner: { js: BANNER },
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    plugins: [plugin],
  }
}

/** Builds in memory; returns the bytes and the warnings esbuild reported. */
export async function buildAction(): Promise<{ bytes: Uint8Array; warnings: string[]; inputs: number }> {
  const result = await esbuild.build(actionBuildOptions())
  const file = result.outputFiles?.find((f) => f.path === path.join(ROOT, OUTFILE))
  if (!file) throw new Error('build-action: esbuild wrote no output')
  const warnings = (await esbuild.formatMessages(result.warnings, { kind: 'warning', color: false })).map(
    (w) => w.trim(),
  )
  return { bytes: file.contents, warnings, inputs: Object.keys(result.metafile?.inputs ?? {}).length }
}

/**
 * Why the committed bundle is not the fresh build (one line for CI), or undefined when it is: `committed`
 * is undefined when the file does not exist.
 */
export function staleness(committed: Uint8Array | undefined, fresh: Uint8Array): string | undefined {
  const fix = 'run node scripts/build-action.ts and commit the result'
  if (committed === undefined) return `${OUTFILE} is missing: ${fix}`
  if (Buffer.compare(Buffer.from(committed), Buffer.from(fresh)) === 0) return undefined
  return `${OUTFILE} is stale (${committed.byteLength} bytes committed, ${fresh.byteLength} built from src/): ${fix}`
}

async function main(argv: string[]): Promise<number> {
  const { bytes, warnings, inputs } = await buildAction()
  for (const w of warnings) process.stderr.write(`${w}\n`)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const target = path.join(ROOT, OUTFILE)
  if (argv.includes('--check')) {
    const committed = await readFile(target).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined
      throw e
    })
    const problem = staleness(committed, bytes)
    if (problem !== undefined) {
      process.stderr.write(`${problem}\n`)
      return 1
    }
    process.stdout.write(`${OUTFILE} is up to date (${bytes.byteLength} bytes, sha256 ${sha256})\n`)
    return 0
  }
  await mkdir(path.dirname(target), { recursive: true })
  await writeFile(target, bytes)
  process.stdout.write(`wrote ${OUTFILE}: ${bytes.byteLength} bytes from ${inputs} files, sha256 ${sha256}\n`)
  return 0
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = await main(process.argv.slice(2))
