/**
 * The GitHub Action: inputs → the same RunOptions the CLI builds → the same pipeline → outputs
 * (GITHUB_OUTPUT), a job summary (GITHUB_STEP_SUMMARY), annotations and release assets. Edge: the
 * runner's environment and files; everything it prints goes to stdout, where the runner reads commands —
 * so every line goes through workflow-commands.ts (escaped, redacted, never a command by accident), and
 * nothing is ever written to GITHUB_ENV or GITHUB_PATH.
 */
import { appendFile } from 'node:fs/promises'
import path from 'node:path'
import { resolveContext, resolveRepositoryPath } from '../config/index.ts'
import { InputError, isDetbuildError, toDetbuildError } from '../errors.ts'
import type { ArtifactFact, RunReport } from '../run/index.ts'
import { createPlainProgress, resolveRunOptions, runDetbuild, toSummaryText } from '../run/index.ts'
import { canonicalJson } from '../util/canonical-json.ts'
import { fileNameProblem, quoteFileName } from '../util/file-name.ts'
import { exists, fromStrayErrno, openWorkspace, toPosixRelative } from '../util/fs.ts'
import { createLogger } from '../util/log.ts'
import { mdCode, mdText } from '../util/markdown.ts'
import { redactSecrets } from '../util/redact.ts'
import { readBuildManifest, WorkspaceFiles } from '../workspace/index.ts'
import { type ActionInputs, readInputs, toActionSecrets } from './inputs.ts'
import { PROVENANCE_BUNDLE, RELEASE_ASSETS_DIR, writeReleaseAssets } from './release-assets.ts'
import { toAnnotations, toJobSummary } from './report.ts'
import { uploadAfterRun } from './upload-step.ts'
import { createWorkflowStdout, isSingleLine, toOutputFile } from './workflow-commands.ts'

export interface ActionIo {
  env: Readonly<Record<string, string | undefined>>
  /** the process's working directory (GITHUB_WORKSPACE wins when set) */
  cwd: string
  stdout: (text: string) => void
  now: Date
}

export interface ActionResult {
  exitCode: number
  report: RunReport | null
  outputs: Record<string, string>
}

/** Runs the Action and returns its exit code; never throws for a DetbuildError. */
export async function runAction(io: ActionIo): Promise<ActionResult> {
  const out = createWorkflowStdout(io.stdout)
  // before anything else is printed: the runner hides these from every later line
  out.mask(toActionSecrets(io.env))
  const print = (text: string) => out.text(text)
  const log = createLogger({ write: print, color: false, debug: io.env.RUNNER_DEBUG === '1' })
  const outputs: Record<string, string> = {}
  try {
    const inputs = readInputs(io.env)
    const root = io.env.GITHUB_WORKSPACE || io.cwd
    const cwd = path.resolve(root, inputs.workingDirectory)
    const ws = path.resolve(cwd, inputs.out)
    await openWorkspace(cwd, ws)
    const env: NodeJS.ProcessEnv = { ...io.env }
    if (inputs.keyPassword !== '') env.DETBUILD_KEY_PASSWORD = inputs.keyPassword
    // a key passed as a secret's value stays in this process's memory: it is never written to disk,
    // where build code (every dependency's scripts, run before signing) could look for it
    const keyPem = inputs.key.includes('-----BEGIN') ? inputs.key : ''
    const keyFile = keyPem === '' ? inputs.key : ''
    // the edge: one context for the run (source date, cache root, the config file read once)
    const context = await resolveContext({
      cwd,
      env,
      readConfig: true,
      ...(inputs.config.trim() !== '' ? { configFile: inputs.config } : {}),
      now: () => io.now,
    })
    const options = await resolveRunOptions({
      cwd,
      out: ws,
      ...stepChoice(inputs),
      config: inputs.config,
      check: inputs.check,
      offlineDb: inputs.offlineDb,
      osvUrl: inputs.osvUrl,
      failOn: inputs.failOn,
      policy: inputs.policy,
      warnOnly: inputs.warnOnly,
      sign: inputs.sign === 'auto' && inputs.key !== '' ? 'key' : inputs.sign,
      signing: { key: keyFile, keyPem, ...inputs.signing },
      trust: inputs.trust,
      context,
      // a keyless OIDC token this run obtains is hidden from every later line before it is used
      onSecret: (value) => out.mask([value]),
      now: io.now,
      log,
    })
    // findings point at files from the repository's top folder (git's); a project in no git repository
    // is placed by its path from GITHUB_WORKSPACE, as the runner reads an annotation's path
    const fromWorkspace = toPosixRelative(root, cwd)
    const repositoryPath =
      (await resolveRepositoryPath(cwd)) ??
      (fromWorkspace === '.' || fromWorkspace.startsWith('../') || fromWorkspace === '..'
        ? ''
        : fromWorkspace)
    const plain = createPlainProgress(print)
    const report = await runDetbuild(
      { ...options, scan: { ...options.scan, repositoryPath } },
      {
        onStart(step, index, total) {
          out.group(`detbuild ${step} (${index + 1}/${total})`)
        },
        onEnd(record, index, total) {
          out.endGroup()
          plain.onEnd?.(record, index, total)
        },
        onBug: (step, e) => log.debug(`${step}: ${(e as Error)?.stack ?? String(e)}`),
      },
    )
    print(toSummaryText(report).trimEnd())
    // after every step: the SBOM (and a VEX) to Dependency-Track, when asked (upload-step.ts)
    const upload = await uploadAfterRun({
      inputs,
      report,
      cwd,
      out: ws,
      env: io.env,
      sourceDateEpoch: context.sourceDate.epoch,
      log,
    })
    if (upload) print(`dependency-track: ${upload.line}`)
    if (upload?.error)
      out.annotate({
        level: 'error',
        title: `detbuild upload [${upload.error.code}]`,
        message: upload.error.toLine(),
      })
    const exitCode = report.exitCode !== 0 ? report.exitCode : (upload?.error?.exitCode ?? 0)

    const fromRoot = (abs: string) => toPosixRelative(root, abs)
    // findings point at the lock file's line, by its path from the repository's top folder (the scan's)
    for (const a of toAnnotations(report)) out.annotate(a)

    // a step-by-step workflow builds in an earlier call: the workspace's build.json still says what was built
    const built = report.facts.build?.artifacts ?? (await readBuildOutputs(ws, fromRoot))
    for (const a of built)
      assertArtifactName(path.posix.basename(a.path), quoteFileName(fromRoot(path.join(ws, a.path))))
    // a step of this run that did not make its outputs (skipped: no identity) leaves older ones in place:
    // they are not this run's to publish or point to
    const stale = new Set<string>()
    const unmade = (step: string) => report.steps.some((s) => s.name === step && s.status !== 'ok')
    if (unmade('sign')) stale.add(PROVENANCE_BUNDLE)
    if (unmade('bundle')) stale.add(WorkspaceFiles.evidence)
    let assets: string[] = []
    if (inputs.releaseAssets && report.failedStep === null && built.length > 0)
      assets = await writeReleaseAssets(
        ws,
        (name, file) => assertArtifactName(name, quoteFileName(fromRoot(file))),
        stale,
      )

    const f = report.facts
    Object.assign(outputs, {
      'exit-code': String(exitCode),
      'failed-step': report.failedStep ?? (upload?.error ? 'upload' : ''),
      workspace: fromRoot(ws),
      sbom: await workspaceFile(ws, f.sbom?.file ?? 'sbom.cdx.json', fromRoot),
      evidence: stale.has(WorkspaceFiles.evidence)
        ? ''
        : await workspaceFile(ws, f.evidence?.file ?? 'evidence.tar.gz', fromRoot),
      artifacts: JSON.stringify(
        built.map((a) => ({ path: fromRoot(path.join(ws, a.path)), sha256: a.sha256, size: a.size })),
      ),
      digests: toLines(built.map((a) => `${a.sha256}  ${path.posix.basename(a.path)}`)),
      verdict: f.policy?.verdict ?? 'none',
      findings: f.scan ? canonicalJson(f.scan.counts) : '{}',
      'release-assets': assets.length > 0 ? fromRoot(path.join(ws, RELEASE_ASSETS_DIR)) : '',
    })
    await writeSummary(
      io.env,
      toJobSummary(report, { workspace: fromRoot(ws) }) +
        (upload ? `\n**Dependency-Track:** ${mdText(redactSecrets(upload.line))}\n` : ''),
    )
    await writeOutputs(io.env, outputs)
    return { exitCode, report, outputs }
  } catch (e) {
    // a file-system error naming a path is about that path (exit 2/3), as in the CLI and each step of run
    const err = toDetbuildError(e, (x) => fromStrayErrno(x, (file) => toPosixRelative(io.cwd, file)))
    if (!isDetbuildError(e)) log.debug((e as Error)?.stack ?? String(e))
    out.annotate({ level: 'error', title: `detbuild [${err.code}]`, message: err.toLine() })
    outputs['exit-code'] = String(err.exitCode)
    await writeSummary(
      io.env,
      `## detbuild: ❌ ${mdCode(redactSecrets(err.code))}\n\n**Error:** ${mdText(redactSecrets(err.toLine()))}\n`,
    )
    await writeOutputs(io.env, outputs)
    return { exitCode: err.exitCode, report: null, outputs }
  }
}

/** A workspace file's path from the repository root, or '' when it does not exist. */
async function workspaceFile(out: string, file: string, fromRoot: (abs: string) => string): Promise<string> {
  const abs = path.join(out, file)
  return (await exists(abs)) ? fromRoot(abs) : ''
}

/**
 * The outputs build.json lists, or none when there is no build.json. The file was written by an earlier
 * call (or by anyone): one its schema refuses (e.g. an entry that is not `artifacts/<name>` with a SHA-256
 * and a size), or that names an artifact a runner would misread, is refused.
 */
async function readBuildOutputs(ws: string, fromRoot: (abs: string) => string): Promise<ArtifactFact[]> {
  const file = path.join(ws, WorkspaceFiles.buildManifest)
  if (!(await exists(file))) return []
  const shown = fromRoot(file)
  const doc = await readBuildManifest(ws, { code: 'ACTION_BUILD_MANIFEST_INVALID', display: shown })
  return doc.outputs.map((o, i): ArtifactFact => {
    // the schema holds an integer; a size past 2^53 would be printed rounded
    if (!Number.isSafeInteger(o.size))
      throw new InputError('ACTION_BUILD_MANIFEST_INVALID', `$.outputs[${i}].size is not a safe integer`, {
        file: shown,
      })
    assertArtifactName(o.path.slice('artifacts/'.length), `${quoteFileName(shown)} $.outputs[${i}].path`)
    return { path: o.path, sha256: o.sha256, size: o.size }
  })
}

/**
 * Refuses an artifact name a runner, a log or a `sha256sum` line would misread (exit 2). `where` names
 * the file (already quoted: it holds the name).
 */
function assertArtifactName(name: string, where: string): void {
  const problem = fileNameProblem(name)
  if (problem !== null)
    throw new InputError(
      'ACTION_ARTIFACT_NAME_INVALID',
      `${where}: artifact name ${quoteFileName(name)} ${problem}`,
      { details: { name: quoteFileName(name) } },
    )
}

/** A line-per-item output: an item holding a line break would forge a line, so it is refused. */
function toLines(items: readonly string[]): string {
  for (const item of items)
    if (!isSingleLine(item))
      throw new InputError('ACTION_OUTPUT_INVALID', `output item ${quoteFileName(item)} holds a line break`)
  return items.join('\n')
}

function stepChoice(inputs: ActionInputs): { steps?: string[]; skip?: string[] } {
  if (inputs.command !== 'run') return { steps: [inputs.command] }
  return { steps: inputs.steps, skip: inputs.skip }
}

async function writeSummary(env: ActionIo['env'], markdown: string): Promise<void> {
  if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, markdown)
}

async function writeOutputs(env: ActionIo['env'], outputs: Record<string, string>): Promise<void> {
  if (env.GITHUB_OUTPUT) await appendFile(env.GITHUB_OUTPUT, toOutputFile(outputs))
}
