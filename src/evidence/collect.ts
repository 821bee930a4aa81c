/**
 * Edge (files): gathers what the workspace holds of the evidence, as bytes by archive path. Only regular
 * files are taken (a symlink could pull anything into the bundle); the policy file that was applied is
 * re-read and must still be the one policy.json names.
 */
import { lstat, readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { resolveSourceDate, SOURCE_DATE_SHOWN, type SourceDate } from '../config/index.ts'
import type { ErrorCode } from '../errors.ts'
import { InputError } from '../errors.ts'
import { POLICIES_DIR } from '../policy/index.ts'
import { BUNDLE_SUFFIX, PROVENANCE_BUNDLE, SIGNATURES_FILE, VULNS_BUNDLE } from '../sign/index.ts'
import { type Digests, digestFile, sha256Hex } from '../util/digest.ts'
import { toPosixRelative } from '../util/fs.ts'
import { compareCodePoint } from '../util/sort.ts'
import {
  parseBuildManifest,
  parsePolicyResult,
  parseSignatures,
  WorkspaceFiles,
  WorkspaceSchemaError,
} from '../workspace/index.ts'
import { pathProblem } from './archive.ts'
import { APPLIED_POLICY_DIR, DEFAULT_LIMITS } from './types.ts'

/** Workspace files taken when present, in no particular order (the archive sorts). */
export const EVIDENCE_FILES: readonly string[] = [
  WorkspaceFiles.buildManifest,
  WorkspaceFiles.provenance,
  WorkspaceFiles.buildLog,
  WorkspaceFiles.reproReport,
  WorkspaceFiles.reproReportMd,
  WorkspaceFiles.sbomJson,
  WorkspaceFiles.sbomXml,
  WorkspaceFiles.vulns,
  WorkspaceFiles.vulnsSarif,
  WorkspaceFiles.vulnsMarkdown,
  WorkspaceFiles.vulnsSbom,
  WorkspaceFiles.vulnsStatement,
  WorkspaceFiles.vulnsOpenVex,
  WorkspaceFiles.policy,
  WorkspaceFiles.policyMarkdown,
  PROVENANCE_BUNDLE,
  VULNS_BUNDLE,
  SIGNATURES_FILE,
  // `detbuild report`'s page: taken when present (no parser: a member whose digest the manifest signs)
  WorkspaceFiles.report,
]

/** Other SBOMs at the top of the workspace (e.g. an SPDX export) are evidence too. */
const SBOM_NAME = /\.(cdx\.(json|xml)|spdx\.json|spdx3\.jsonld)$/

export interface CollectedEvidence {
  /** archive path → bytes, artifacts aside (they stay on disk: see `artifacts`) */
  files: Map<string, Buffer>
  /** every artifact, hashed from its file (streamed: an artifact may be larger than memory); included ones are members */
  artifacts: Array<{ path: string; file: string; digests: Digests; included: boolean }>
  sourceDateEpoch: number
  epochFrom: 'build.json' | 'SOURCE_DATE_EPOCH' | 'git' | 'fallback'
  /** expected evidence that is absent (for a warning) */
  absent: string[]
  /** what makes the workspace unfit to sign, found while collecting (e.g. an artifact build.json names is gone) */
  problems: Array<{ code: ErrorCode; file: string; message: string }>
}

export interface CollectOptions {
  cwd: string
  out: string
  includeArtifacts: boolean
  /** the context's source date: member times when build.json records none */
  sourceDate?: SourceDate
  /** without a source date: the environment it is resolved from (config/context.ts) */
  env: NodeJS.ProcessEnv
}

export async function collectEvidence(o: CollectOptions): Promise<CollectedEvidence> {
  const files = new Map<string, Buffer>()
  const display = (name: string) => toPosixRelative(o.cwd, path.join(o.out, name))
  const take = async (name: string): Promise<Buffer | undefined> => {
    const data = await readRegular(path.join(o.out, name), display(name))
    if (data) files.set(name, data)
    return data
  }

  let top: string[] = []
  try {
    top = await readdir(o.out)
  } catch (e) {
    throw new InputError('EVIDENCE_WORKSPACE_MISSING', 'workspace not found: run the other steps first', {
      file: toPosixRelative(o.cwd, o.out),
      cause: e,
    })
  }
  const names = new Set(EVIDENCE_FILES)
  for (const n of top) if (SBOM_NAME.test(n)) names.add(n)
  for (const n of [...names].sort(compareCodePoint)) await take(n)

  // signature bundles signatures.json lists (artifacts/<name>.sigstore.json) and any others beside artifacts
  const signatures = files.get(SIGNATURES_FILE)
  for (const file of listedBundles(signatures)) if (!files.has(file)) await take(file)

  const artifacts: CollectedEvidence['artifacts'] = []
  for (const name of await listFiles(path.join(o.out, WorkspaceFiles.artifactsDir))) {
    const rel = `${WorkspaceFiles.artifactsDir}/${name}`
    if (name.endsWith(BUNDLE_SUFFIX)) {
      if (!files.has(rel)) await take(rel)
      continue
    }
    const file = path.join(o.out, rel)
    const digests = await digestRegular(file, display(rel))
    if (!digests) continue
    artifacts.push({ path: rel, file, digests, included: o.includeArtifacts })
  }

  // every output build.json names must be there: its digest goes into the manifest, its bytes with
  // --include-artifacts; an absent one would silently drop out of the signed evidence
  const problems: CollectedEvidence['problems'] = []
  for (const name of outputsOf(files.get(WorkspaceFiles.buildManifest)))
    if (!artifacts.some((a) => a.path === name))
      problems.push({
        code: 'BUNDLE_ARTIFACT_MISSING',
        file: name,
        message: `build.json names ${name}, but it is not in the workspace${o.includeArtifacts ? ' (--include-artifacts)' : ''}: run detbuild build again`,
      })

  const applied = await readAppliedPolicy(o.cwd, files.get(WorkspaceFiles.policy))
  if (applied) files.set(applied.name, applied.data)

  if (files.size === 0)
    throw new InputError(
      'EVIDENCE_WORKSPACE_EMPTY',
      'the workspace holds no evidence: run detbuild build, sbom, scan, policy and sign first',
      { file: toPosixRelative(o.cwd, o.out) },
    )
  const sizes = [...files].map(([name, data]) => [name, data.length] as const)
  for (const a of artifacts) if (a.included) sizes.push([a.path, a.digests.size])
  for (const [name, size] of sizes)
    if (size > DEFAULT_LIMITS.maxEntryBytes)
      throw new InputError(
        'EVIDENCE_FILE_TOO_LARGE',
        `${size} bytes, over the ${DEFAULT_LIMITS.maxEntryBytes}-byte limit a verifier accepts`,
        { file: display(name) },
      )

  const { epoch, from } = await sourceDateOf(files.get(WorkspaceFiles.buildManifest), o)
  const expected = [
    WorkspaceFiles.buildManifest,
    WorkspaceFiles.provenance,
    WorkspaceFiles.sbomJson,
    WorkspaceFiles.vulns,
    WorkspaceFiles.policy,
    SIGNATURES_FILE,
  ]
  return {
    files,
    artifacts,
    sourceDateEpoch: epoch,
    epochFrom: from,
    absent: expected.filter((n) => !files.has(n)),
    problems,
  }
}

/** The output paths build.json lists (a file its schema refuses is reported by the validator). */
function outputsOf(buildJson: Buffer | undefined): string[] {
  if (!buildJson) return []
  try {
    return parseBuildManifest(buildJson)
      .outputs.map((o) => o.path)
      .filter((p) => pathProblem(p) === null)
  } catch {
    return []
  }
}

/**
 * A workspace file as its schema types it, or undefined when absent or when its schema refuses it: the
 * validator reports that with every other problem, so that bundle names them all at once. Bytes that are
 * not JSON at all are unreadable evidence (EVIDENCE_WORKSPACE_UNREADABLE, exit 2).
 */
function typed<T>(
  parse: (bytes: Uint8Array, name: string, code: ErrorCode) => T,
  bytes: Buffer | undefined,
  name: string,
): T | undefined {
  if (!bytes) return undefined
  try {
    return parse(bytes, name, 'EVIDENCE_WORKSPACE_UNREADABLE')
  } catch (e) {
    if (e instanceof WorkspaceSchemaError) return undefined
    throw e
  }
}

/** A regular file's bytes, undefined when absent; a symlink or folder in its place is refused. */
async function readRegular(file: string, display: string): Promise<Buffer | undefined> {
  return (await assertRegular(file, display)) ? readOrFail(() => readFile(file), display) : undefined
}

/** A regular file's digests, read as a stream (any size), with {@link readRegular}'s checks. */
async function digestRegular(file: string, display: string): Promise<Digests | undefined> {
  return (await assertRegular(file, display)) ? readOrFail(() => digestFile(file), display) : undefined
}

async function readOrFail<T>(read: () => Promise<T>, display: string): Promise<T> {
  try {
    return await read()
  } catch (e) {
    throw new InputError('EVIDENCE_WORKSPACE_UNREADABLE', `cannot read (${(e as Error).message})`, {
      file: display,
      cause: e,
    })
  }
}

/** False when `file` is absent; a symlink or folder in its place is refused. */
async function assertRegular(file: string, display: string): Promise<boolean> {
  let info: Awaited<ReturnType<typeof lstat>>
  try {
    info = await lstat(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw new InputError('EVIDENCE_WORKSPACE_UNREADABLE', `cannot read (${(e as Error).message})`, {
      file: display,
      cause: e,
    })
  }
  if (!info.isFile())
    throw new InputError(
      'EVIDENCE_WORKSPACE_UNREADABLE',
      info.isSymbolicLink() ? 'is a symbolic link; evidence must be regular files' : 'not a regular file',
      { file: display },
    )
  return true
}

async function listFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isSymbolicLink()))
      .map((e) => e.name)
      .sort(compareCodePoint)
  } catch {
    return []
  }
}

/** Bundle files named in signatures.json that are safe workspace-relative paths. */
function listedBundles(signatures: Buffer | undefined): string[] {
  const data = typed(parseSignatures, signatures, SIGNATURES_FILE)
  return (data?.bundles ?? [])
    .map((b) => b.file)
    .filter((f) => pathProblem(f) === null)
    .sort(compareCodePoint)
}

/** The policy file policy.json says was applied, re-read and checked against its recorded sha256. */
async function readAppliedPolicy(
  cwd: string,
  policyJson: Buffer | undefined,
): Promise<{ name: string; data: Buffer } | undefined> {
  const result = typed(parsePolicyResult, policyJson, WorkspaceFiles.policy)
  if (!result) return undefined
  const { source, sha256 } = result.policy
  const builtin = /^builtin:([A-Za-z0-9][A-Za-z0-9_-]*)$/.exec(source)
  const file = builtin ? path.join(POLICIES_DIR, `${builtin[1]}.yaml`) : path.resolve(cwd, source)
  const data = await readRegular(file, source)
  if (!data)
    throw new InputError(
      'EVIDENCE_POLICY_FILE_MISSING',
      'policy.json names this policy file, but it is gone; run detbuild policy again',
      { file: source },
    )
  if (sha256Hex(data) !== sha256)
    throw new InputError(
      'EVIDENCE_POLICY_FILE_CHANGED',
      'the policy file changed since policy.json was written; run detbuild policy again',
      { file: source, details: { expected: sha256, found: sha256Hex(data) } },
    )
  return { name: `${APPLIED_POLICY_DIR}/${path.basename(file)}`, data }
}

async function sourceDateOf(
  buildJson: Buffer | undefined,
  o: CollectOptions,
): Promise<{ epoch: number; from: CollectedEvidence['epochFrom'] }> {
  const epoch = typed(parseBuildManifest, buildJson, WorkspaceFiles.buildManifest)?.sourceDateEpoch
  if (epoch !== undefined && Number.isSafeInteger(epoch)) return { epoch, from: 'build.json' }
  const sd = o.sourceDate ?? (await resolveSourceDate(o.cwd, o.env))
  return { epoch: sd.epoch, from: SOURCE_DATE_SHOWN[sd.from] }
}
