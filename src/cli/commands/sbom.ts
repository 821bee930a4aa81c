import path from 'node:path'
import { Option } from 'commander'
import { ExitCode, InputError } from '../../errors.ts'
import { plural } from '../../util/plural.ts'
import type { RegisterCommand } from '../context.ts'

interface SbomFlags {
  from: 'lockfile' | 'installed'
  format: string[]
  spec: '1.7' | '1.6' | '1.5' | '1.4'
  omit: string[]
  workspace: string[]
  validate: boolean
  supplier: 'manifest' | 'registry' | 'none'
  offline: boolean
  ecosystem?: 'npm' | 'go'
  goList: boolean
  binary: string[]
  score: boolean
  author?: string
}

/** The variables that locate Go's module cache (the Go reader reads dependency go.mod files from it). */
const GO_ENV = ['GOMODCACHE', 'GOPATH']

const collect = (value: string, previous: string[] = []) => [...previous, value]

export const register: RegisterCommand = (program, { wrap }) => {
  program
    .command('sbom')
    .summary('write a CycloneDX SBOM of the project (sbom.cdx.json)')
    .description(
      'Reads the dependency tree (a v2/v3 lockfile directly, a v1 lockfile or installed node_modules with\n' +
        '@npmcli/arborist; a Go module from go.mod and go.sum) and writes a ' +
        'schema-valid, byte-reproducible CycloneDX SBOM to <out>/sbom.cdx.json (and .xml); with --format, the\n' +
        'same inventory as SPDX 2.3 (sbom.spdx.json) and SPDX 3.0.1 (sbom.spdx3.jsonld) too.',
    )
    .addOption(
      new Option('--from <source>', 'read the lockfile or the installed tree')
        .choices(['lockfile', 'installed'])
        .default('lockfile'),
    )
    // output formats (docs/formats.md): one inventory, several encodings
    .option(
      '--format <formats>',
      'cyclonedx-json (default), cyclonedx-xml, spdx-json (SPDX 2.3), spdx3-jsonld (SPDX 3.0.1); comma-separated, repeatable (json, xml, both: the CycloneDX ones)',
      collect,
      [],
    )
    .addOption(
      new Option(
        '--spec <version>',
        'CycloneDX spec version (1.6 stays the default: some consumers do not read 1.7 yet)',
      )
        .choices(['1.7', '1.6', '1.5', '1.4'])
        .default('1.6'),
    )
    .option(
      '--omit <types>',
      'leave out dev, optional and/or peer packages, as npm does (comma-separated, repeatable)',
      collect,
      [],
    )
    .option(
      '-w, --workspace <name>',
      'only this workspace and its dependency closure (repeatable)',
      collect,
      [],
    )
    .option('--no-validate', 'skip schema validation of the output')
    .addOption(
      new Option(
        '--supplier <source>',
        'where component suppliers come from: the manifests the tree gives, those and the npm registry (cached), or none',
      )
        .choices(['manifest', 'registry', 'none'])
        .default('manifest'),
    )
    .addOption(
      new Option(
        '--ecosystem <id>',
        'read the project as this ecosystem only (default: every one found: package.json and go.mod give one SBOM)',
      ).choices(['npm', 'go']),
    )
    .option(
      '--binary <file>',
      'describe this executable (Go build info: modules, Go release, build settings) instead of the project; inside the project folder (repeatable)',
      collect,
      [],
    )
    .option(
      '--go-list',
      'Go: take the module graph from the go command (go list -m all, go mod graph), offline, with the module cache',
      false,
    )
    .option(
      '--offline',
      'with --supplier registry: use the registry metadata cache only, never the network',
      false,
    )
    // --score, --author (SBOM profiles, docs/profiles.md)
    .option(
      '--author <entity>',
      'the SBOM\'s author, "Name <e-mail>" or "Name" (metadata.authors: CISA "SBOM Author", BSI "Creator")',
    )
    .option(
      '--score',
      "also print each SBOM profile's coverage (CISA 2026, BSI TR-03183-2) and write it to <out>/sbom-score.json",
      false,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  detbuild sbom\n  detbuild sbom --omit dev --format both\n  detbuild sbom --format cyclonedx-json,spdx-json,spdx3-jsonld --spec 1.7\n  detbuild sbom -w @acme/api --spec 1.5\n  detbuild sbom --supplier registry\n  detbuild sbom --score\n  detbuild sbom --ecosystem go --go-list',
    )
    .action(
      wrap<SbomFlags>(async (flags, { globals, log, resolveContext }) => {
        const { runSbom, OMIT_TYPES, REGISTRY_METADATA_FOLDER, parseFormats } = await import(
          '../../sbom/index.ts'
        )
        const formats = parseFormats(flags.format)
        const { SOURCE_DATE_SHOWN } = await import('../../config/index.ts')
        const omit = flags.omit
          .flatMap((o) => o.split(','))
          .map((o) => o.trim())
          .filter(Boolean)
        for (const o of omit) {
          if (!(OMIT_TYPES as readonly string[]).includes(o)) {
            throw new InputError('SBOM_USAGE', `--omit takes dev, optional or peer, not "${o}"`)
          }
        }
        const author = flags.author === undefined ? undefined : parseAuthor(flags.author)
        if (flags.score && formats.cyclonedx !== 'json' && formats.cyclonedx !== 'both')
          throw new InputError(
            'SBOM_USAGE',
            '--score reads the CycloneDX JSON SBOM: add --format cyclonedx-json (json, both)',
          )
        if (flags.offline && flags.supplier !== 'registry')
          throw new InputError(
            'SBOM_USAGE',
            '--offline applies to --supplier registry (sbom reads no network otherwise)',
          )
        // the two conventional names a registry token in .npmrc refers to (`${NODE_AUTH_TOKEN}`)
        const context = await resolveContext({
          allowEnv: flags.supplier === 'registry' ? ['NODE_AUTH_TOKEN', 'NPM_TOKEN', ...GO_ENV] : GO_ENV,
        })
        const { sourceDate } = context
        const from = SOURCE_DATE_SHOWN[sourceDate.from]
        const result = await runSbom({
          cwd: globals.cwd,
          out: globals.out,
          from: flags.from,
          format: formats.cyclonedx,
          spec: flags.spec,
          ...(formats.spdx.length > 0 ? { spdx: formats.spdx } : {}),
          omit: omit as never,
          workspaces: flags.workspace,
          validate: flags.validate,
          sourceDateEpoch: sourceDate.epoch,
          log,
          supplier: flags.supplier,
          offline: flags.offline,
          registryCacheDir: path.join(context.cacheRoot, REGISTRY_METADATA_FOLDER),
          env: context.env,
          ...(flags.ecosystem ? { ecosystem: flags.ecosystem } : {}),
          ...(flags.goList ? { goList: true } : {}),
          ...(flags.binary.length > 0 ? { binaries: flags.binary } : {}),
          ...(author ? { author } : {}),
        })
        const rel = (f: string) => path.relative(process.cwd(), f) || f
        const score = flags.score ? await writeScore(globals.cwd, globals.out) : undefined
        const v = result.validation
        const valid = (o: { ok: unknown } | undefined) => (o?.ok === true ? 'schema-valid' : 'not validated')
        const cdxValid = formats.cyclonedx === 'xml' ? valid(v.xml) : valid(v.json)
        const text = [
          `SBOM of ${result.root.name}@${result.root.version}: ${plural(result.components, 'component')}, ${plural(result.dependencyEdges, 'dependency edge')}`,
          ...(formats.cyclonedx === 'none'
            ? []
            : [
                `CycloneDX ${result.specVersion}, ${cdxValid}, serial ${result.serialNumber}, timestamp ${result.timestamp} (${from})`,
              ]),
          ...formats.spdx.map(
            (s) =>
              `SPDX ${s}, ${valid(v[`spdx-${s}`])}, created ${result.timestamp.replace(/\.\d+Z$/, 'Z')} (${from})`,
          ),
          ...(result.supplier.source === 'none'
            ? []
            : [
                `suppliers: ${result.supplier.known} of ${result.supplier.known + result.supplier.unknown} components name one${
                  result.supplier.registry
                    ? ` (registry ${result.supplier.registry.url}: ${result.supplier.registry.fetched} fetched, ${result.supplier.registry.cached} cached, ${result.supplier.registry.missing} without data${result.supplier.registry.offline ? ', offline' : ''})`
                    : ''
                }`,
              ]),
          ...result.files.map((f) => `wrote ${rel(f)}`),
          ...(score ? [score.text.trimEnd(), `wrote ${rel(score.file)}`] : []),
          ...(result.warnings.length ? [`${plural(result.warnings.length, 'tree warning')}, see above`] : []),
        ].join('\n')
        return {
          exitCode: ExitCode.ok,
          text,
          data: {
            ...result,
            files: result.files.map((f) => path.relative(globals.out, f)),
            sourceDateEpoch: { value: sourceDate.epoch, from },
            ...(score ? { score: score.document } : {}),
          },
        }
      }),
    )
}

/**
 * `--score`: the written JSON SBOM's coverage of every SBOM profile (pure core: policy/score.ts), printed
 * and written to <out>/sbom-score.json.
 */
async function writeScore(cwd: string, out: string) {
  const [{ readFile }, { scoreDocument, scoreSbom, scoreText }, { WorkspaceFiles }, { sha256Hex }, fs, json] =
    await Promise.all([
      import('node:fs/promises'),
      import('../../policy/index.ts'),
      import('../../workspace/index.ts'),
      import('../../util/digest.ts'),
      import('../../util/fs.ts'),
      import('../../util/canonical-json.ts'),
    ])
  const sbomFile = path.join(out, WorkspaceFiles.sbomJson)
  const bytes = await readFile(sbomFile)
  const input = { file: path.relative(cwd, sbomFile).split(path.sep).join('/'), sha256: sha256Hex(bytes) }
  const scores = scoreSbom(JSON.parse(bytes.toString('utf8')), input)
  const document = scoreDocument(scores, input)
  const file = path.join(out, WorkspaceFiles.sbomScore)
  await fs.writeFileAtomic(file, json.stableJson(document))
  return { text: scoreText(scores), document, file }
}

/** `--author "ACME Corp <sbom@acme.example>"` or `--author "ACME Corp"`; anything else is a usage error. */
function parseAuthor(value: string): { name: string; email?: string } {
  const m = /^([^<>]*?)\s*(?:<([^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)>)?$/.exec(value.trim())
  const name = m?.[1]?.trim() ?? ''
  if (!m || name === '' || /[\u0000-\u001f\u007f]/.test(value))
    throw new InputError(
      'SBOM_USAGE',
      `--author takes "Name" or "Name <e-mail>", not ${JSON.stringify(value)}`,
    )
  return m[2] ? { name, email: m[2] } : { name }
}
