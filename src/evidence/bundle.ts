/**
 * `detbuild bundle`: collect the workspace's evidence (edge), build and sign the manifest, pack the
 * archive (pure), write it atomically (edge). One signature over manifest.json covers every file.
 */
import path from 'node:path'
import type { SourceDate } from '../config/index.ts'
import { IncompleteError, InputError } from '../errors.ts'
import { renderReportFrom } from '../report/index.ts'
import { type SigningConfig, signerOf, signFile } from '../sign/index.ts'
import { stableJson } from '../util/canonical-json.ts'
import { digestFile } from '../util/digest.ts'
import { ensureDir, toFsError, toPosixRelative, writeFileAtomic } from '../util/fs.ts'
import type { Logger } from '../util/log.ts'
import { plural } from '../util/plural.ts'
import { WorkspaceFiles } from '../workspace/index.ts'
import { writeEvidenceArchive } from './archive.ts'
import { type CollectedEvidence, collectEvidence } from './collect.ts'
import { checkLinks } from './links.ts'
import { toManifest } from './manifest.ts'
import { MANIFEST_BUNDLE, MANIFEST_FILE, type ManifestArtifact, type SignerSummary } from './types.ts'
import { validateFiles } from './validate-files.ts'

/** Options of {@link createEvidenceBundle} (`detbuild bundle`). */
export interface BundleOptions {
  cwd: string
  out: string
  /** the archive to write; default `<out>/evidence.tar.gz` */
  output?: string
  signing: SigningConfig
  includeArtifacts: boolean
  /** the context's source date: member times when build.json records none (else resolved from `env`) */
  sourceDate?: SourceDate
  env: NodeJS.ProcessEnv
  log: Logger
}

/** The evidence archive {@link createEvidenceBundle} wrote: its digests, members and signer. */
export interface BundleResult {
  /** the archive, POSIX and relative to the project */
  file: string
  size: number
  sha256: string
  integrity: string
  sourceDateEpoch: number
  /** archive members besides manifest.json and its signature */
  files: string[]
  artifacts: ManifestArtifact[]
  signer: SignerSummary
  tlog: boolean
}

/** Collects the workspace files into a signed, deterministic evidence.tar.gz (`detbuild bundle`). */
export async function createEvidenceBundle(o: BundleOptions): Promise<BundleResult> {
  const collected = await collectEvidence({
    cwd: o.cwd,
    out: o.out,
    includeArtifacts: o.includeArtifacts,
    ...(o.sourceDate ? { sourceDate: o.sourceDate } : {}),
    env: o.env,
  })
  for (const name of collected.absent) o.log.warn(`no ${name} in the workspace; the bundle will not hold it`)
  if (collected.epochFrom !== 'build.json')
    o.log.warn(`no sourceDateEpoch in build.json: member times come from ${collected.epochFrom}`)

  await assertSignable(collected, o)
  await refreshReport(collected, o)

  const manifest = toManifest(collected.files, collected.artifacts, collected.sourceDateEpoch)
  const manifestBytes = Buffer.from(stableJson(manifest))
  const bundle = await signFile(manifestBytes, o.signing)

  const members = new Map<string, Uint8Array>(collected.files)
  members.set(MANIFEST_FILE, manifestBytes)
  members.set(MANIFEST_BUNDLE, Buffer.from(stableJson(bundle)))
  // included artifacts are streamed from the workspace into the archive, never held in memory
  const onDisk = collected.artifacts
    .filter((a) => a.included)
    .map((a) => ({ path: a.path, file: a.file, size: a.digests.size }))

  const target = o.output ? path.resolve(o.cwd, o.output) : path.join(o.out, WorkspaceFiles.evidence)
  const shown = toPosixRelative(o.cwd, target)
  await ensureDir(path.dirname(target), path.dirname(shown))
  try {
    await writeEvidenceArchive(members, onDisk, collected.sourceDateEpoch, target)
  } catch (e) {
    throw toFsError(e, shown, 'OUTPUT_UNWRITABLE', 'write')
  }
  const d = await digestFile(target)
  return {
    file: toPosixRelative(o.cwd, target),
    size: d.size,
    sha256: d.sha256,
    integrity: d.integrity,
    sourceDateEpoch: collected.sourceDateEpoch,
    files: manifest.files.map((f) => f.path),
    artifacts: manifest.artifacts,
    signer: signerOf(bundle, o.signing),
    tlog: (bundle.verificationMaterial?.tlogEntries?.length ?? 0) > 0,
  }
}

/**
 * Nothing is signed that is not what its name says, or that was made from other inputs than the ones
 * beside it (a repro-report.json or provenance signature of an earlier version, a scan of an older SBOM).
 * Every problem is collected; the first names the code, all are in `details.problems`.
 */
async function assertSignable(collected: CollectedEvidence, o: BundleOptions): Promise<void> {
  const shown = (name: string) => toPosixRelative(o.cwd, path.join(o.out, name))
  const { problems, unchecked } = await validateFiles(collected.files, { sboms: true })
  const invalid = problems.map((p) => ({
    code: 'BUNDLE_FILE_INVALID' as const,
    file: shown(p.file),
    message: p.message,
  }))
  const links = checkLinks(
    collected.files,
    collected.artifacts.map((a) => ({ path: a.path, ...a.digests })),
  ).map((p) => ({
    code: p.kind === 'missing' ? ('BUNDLE_INPUT_MISSING' as const) : ('BUNDLE_STALE_INPUT' as const),
    file: shown(p.file),
    message: p.message,
    ...(p.expected !== undefined ? { expected: p.expected } : {}),
    ...(p.found !== undefined ? { found: p.found } : {}),
  }))
  const all = [...collected.problems.map((p) => ({ ...p, file: shown(p.file) })), ...invalid, ...links]
  const first = all[0]
  for (const p of all.slice(1)) o.log.warn(`${p.file}: [${p.code}] ${p.message}`)
  if (first)
    throw new InputError(
      first.code,
      `${first.message}${all.length > 1 ? ` (and ${plural(all.length - 1, 'more problem')}: see details)` : ''}; nothing was signed`,
      { file: first.file, details: { problems: all } },
    )
  const notChecked = unchecked[0]
  if (notChecked)
    throw new IncompleteError(
      'BUNDLE_VALIDATION_UNAVAILABLE',
      `could not validate: ${notChecked.message}; nothing was signed`,
      { file: shown(notChecked.file) },
    )
}

/**
 * report.html shows the other files, so the page signed is the one the signed files make: a page made
 * from other files (a later scan, policy or signature) or by another detbuild version is rendered again
 * from them, and rewritten in the workspace too.
 */
async function refreshReport(collected: CollectedEvidence, o: BundleOptions): Promise<void> {
  const page = collected.files.get(WorkspaceFiles.report)
  if (!page) return
  const shown = toPosixRelative(o.cwd, path.join(o.out, WorkspaceFiles.report))
  const artifacts = collected.artifacts.map((a) => ({ path: a.path, ...a.digests }))
  const fresh = await renderReportFrom(collected.files, artifacts)
  if (fresh === null)
    throw new InputError(
      'BUNDLE_STALE_INPUT',
      'report.html shows files the workspace no longer holds: run detbuild report again, or remove it; nothing was signed',
      { file: shown },
    )
  const bytes = Buffer.from(fresh)
  if (bytes.equals(page)) return
  await writeFileAtomic(path.join(o.out, WorkspaceFiles.report), bytes, 0o644, shown)
  collected.files.set(WorkspaceFiles.report, bytes)
  o.log.warn(
    `${shown} was made from other files than the ones bundled (or by another detbuild version): rewritten from them`,
  )
}
