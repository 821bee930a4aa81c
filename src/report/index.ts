/**
 * The report step (`detbuild report`): reads what the workspace holds (edge), renders one self-contained
 * HTML page (render.ts, pure) and writes it atomically to `<out>/report.html`. Every JSON file is checked
 * against its schema by the workspace readers; a file that is absent is shown as "not run"; a symlink or
 * folder in a file's place is refused (the page must show the workspace's own files).
 */
import { lstat, readdir } from 'node:fs/promises'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { digestBytes, digestFile } from '../util/digest.ts'
import { ensureDir, readBytesFile, toFsError, toPosixRelative, writeFileAtomic } from '../util/fs.ts'
import { parseJson } from '../util/json-parse.ts'
import { compareCodePoint } from '../util/sort.ts'
import { VERSION } from '../version.ts'
import {
  parseBuildManifest,
  parsePolicyResult,
  parseProvenance,
  parseReproReport,
  parseSignatures,
  parseVulnsReport,
  WorkspaceFiles,
} from '../workspace/index.ts'
import { type ReportFile, type ReportInput, toSbomView } from './model.ts'
import { renderReport } from './render.ts'

export type { ReportInput } from './model.ts'
export { renderReport } from './render.ts'

/** Options of {@link writeReport} (`detbuild report`). */
export interface ReportOptions {
  cwd: string
  /** the workspace folder */
  out: string
  /** the page to write; default `<out>/report.html` */
  output?: string
}

/** What {@link writeReport} wrote and which steps' results it found. */
export interface ReportResult {
  /** the page, POSIX and relative to the project */
  file: string
  size: number
  sha256: string
  /** each step's file: present, or "not run" */
  steps: Record<'build' | 'sbom' | 'scan' | 'policy' | 'sign', 'present' | 'not run'>
  /** the workspace files the page was made from */
  inputs: number
}

/** A workspace-relative path a file names (signatures.json, build.json): plain segments only. */
function safeRelative(p: string): boolean {
  return (
    p.length > 0 &&
    p.length < 1024 &&
    !p.startsWith('/') &&
    !p.includes('\\') &&
    !p.includes('\0') &&
    p.split('/').every((s) => s !== '' && s !== '.' && s !== '..')
  )
}

/**
 * Where the page's input comes from: the workspace on disk (`detbuild report`), or the bytes `bundle` has
 * just collected (to check that the page it signs is the one those files make).
 */
interface ReportSource {
  /** a file's bytes, undefined when absent */
  read(name: string): Promise<Buffer | undefined>
  /** an artifact's digest without holding it, undefined when absent */
  digest(name: string): Promise<{ sha256: string; size: number } | undefined>
}

/** The workspace folder as a source: regular files only (a symlink or folder in a file's place is refused). */
async function diskSource(o: {
  cwd: string
  out: string
}): Promise<ReportSource & { shown: (n: string) => string }> {
  const shown = (name: string) => toPosixRelative(o.cwd, path.join(o.out, name))
  try {
    await readdir(o.out)
  } catch (e) {
    throw new InputError('REPORT_WORKSPACE_MISSING', 'workspace not found: run the other steps first', {
      file: toPosixRelative(o.cwd, o.out),
      cause: e,
    })
  }
  /** false when absent */
  const isRegular = async (name: string): Promise<boolean> => {
    try {
      const info = await lstat(path.join(o.out, name))
      if (info.isFile()) return true
      throw new InputError(
        'REPORT_FILE_UNREADABLE',
        info.isSymbolicLink()
          ? 'is a symbolic link; the report reads regular files only'
          : 'not a regular file',
        { file: shown(name) },
      )
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false
      if (e instanceof InputError) throw e
      throw toFsError(e, shown(name), 'REPORT_FILE_UNREADABLE', 'read')
    }
  }
  return {
    shown,
    read: async (name) =>
      (await isRegular(name))
        ? readBytesFile(path.join(o.out, name), 'REPORT_FILE_UNREADABLE', shown(name))
        : undefined,
    // an artifact is digested as a stream (it may be larger than memory), never held
    digest: async (name) => {
      if (!(await isRegular(name))) return undefined
      try {
        return await digestFile(path.join(o.out, name))
      } catch (e) {
        throw toFsError(e, shown(name), 'REPORT_FILE_UNREADABLE', 'read')
      }
    },
  }
}

/** Reads the workspace into the page's input (edge). */
export async function readReportInput(o: { cwd: string; out: string }): Promise<ReportInput> {
  const source = await diskSource(o)
  return toReportInput(source, source.shown, toPosixRelative(o.cwd, o.out))
}

async function toReportInput(
  source: ReportSource,
  shown: (name: string) => string,
  workspace: string,
): Promise<ReportInput> {
  const files: ReportFile[] = []
  const bytes = new Map<string, Buffer>()
  const take = async (name: string): Promise<Buffer | undefined> => {
    if (bytes.has(name)) return bytes.get(name)
    const data = await source.read(name)
    if (!data) return undefined
    const d = digestBytes(data)
    bytes.set(name, data)
    files.push({ name, sha256: d.sha256, size: d.size })
    return data
  }
  const digestOnly = async (name: string): Promise<void> => {
    if (files.some((f) => f.name === name)) return
    const d = await source.digest(name)
    if (d) files.push({ name, sha256: d.sha256, size: d.size })
  }
  const typed = async <T>(name: string, parse: (b: Uint8Array, n: string) => T): Promise<T | null> => {
    const data = await take(name)
    return data ? parse(data, shown(name)) : null
  }

  const build = await typed(WorkspaceFiles.buildManifest, parseBuildManifest)
  const repro = await typed(WorkspaceFiles.reproReport, parseReproReport)
  const provenance = await typed(WorkspaceFiles.provenance, parseProvenance)
  const vulns = await typed(WorkspaceFiles.vulns, parseVulnsReport)
  const policy = await typed(WorkspaceFiles.policy, parsePolicyResult)
  const signatures = await typed(WorkspaceFiles.signatures, parseSignatures)
  const sbomBytes = await take(WorkspaceFiles.sbomJson)
  let sbom: ReportInput['sbom'] = null
  if (sbomBytes) {
    const view = toSbomView(
      parseJson(sbomBytes.toString('utf8'), shown(WorkspaceFiles.sbomJson), 'REPORT_SBOM_INVALID'),
    )
    if (typeof view === 'string')
      throw new InputError('REPORT_SBOM_INVALID', view, { file: shown(WorkspaceFiles.sbomJson) })
    sbom = view
  }
  // the signature bundles signatures.json lists, the files they sign, and the artifacts
  for (const b of signatures?.bundles ?? []) {
    if (safeRelative(b.file)) await take(b.file)
    if (safeRelative(b.subject) && !b.subject.startsWith(`${WorkspaceFiles.artifactsDir}/`))
      await take(b.subject)
  }
  const artifacts = new Set<string>()
  for (const out of build?.outputs ?? []) if (safeRelative(out.path)) artifacts.add(out.path)
  for (const b of signatures?.bundles ?? [])
    if (safeRelative(b.subject) && b.subject.startsWith(`${WorkspaceFiles.artifactsDir}/`))
      artifacts.add(b.subject)
  for (const a of [...artifacts].sort(compareCodePoint)) await digestOnly(a)

  if (files.length === 0)
    throw new InputError(
      'REPORT_WORKSPACE_EMPTY',
      'the workspace holds none of the files a report shows: run detbuild build, sbom, scan, policy or sign first',
      { file: workspace },
    )
  files.sort((a, b) => compareCodePoint(a.name, b.name))
  return { detbuildVersion: VERSION, files, build, repro, provenance, sbom, vulns, policy, signatures }
}

/** Reads the workspace and writes the HTML report (`detbuild report`). */
export async function writeReport(o: ReportOptions): Promise<ReportResult> {
  const input = await readReportInput(o)
  const html = renderReport(input)
  const target = o.output ? path.resolve(o.cwd, o.output) : path.join(o.out, WorkspaceFiles.report)
  const shown = toPosixRelative(o.cwd, target)
  await ensureDir(path.dirname(target), path.dirname(shown))
  await writeFileAtomic(target, html, 0o644, shown)
  const d = digestBytes(html)
  const step = (v: unknown): 'present' | 'not run' => (v ? 'present' : 'not run')
  return {
    file: shown,
    size: d.size,
    sha256: d.sha256,
    steps: {
      build: step(input.build),
      sbom: step(input.sbom),
      scan: step(input.vulns),
      policy: step(input.policy),
      sign: step(input.signatures),
    },
    inputs: input.files.length,
  }
}

/**
 * The page the collected files make (`bundle`: the report.html it signs must show exactly the files it
 * signs). `files` are the bundle's members by workspace path, `artifacts` the digests of the artifacts it
 * hashed. Null when the reader refuses them (an invalid file, or none of the files a page shows).
 */
export async function renderReportFrom(
  files: ReadonlyMap<string, Uint8Array>,
  artifacts: ReadonlyArray<{ path: string; sha256: string; size: number }>,
): Promise<string | null> {
  const source: ReportSource = {
    read: async (name) => {
      const data = files.get(name)
      return data ? Buffer.from(data) : undefined
    },
    digest: async (name) => {
      const a = artifacts.find((x) => x.path === name)
      if (a) return { sha256: a.sha256, size: a.size }
      const data = files.get(name)
      return data ? digestBytes(data) : undefined
    },
  }
  try {
    return renderReport(await toReportInput(source, (n) => n, '.'))
  } catch {
    return null
  }
}

/** The CLI's text for a written report. */
export function renderReportText(r: ReportResult): string {
  const missing = Object.entries(r.steps)
    .filter(([, s]) => s === 'not run')
    .map(([k]) => k)
  return `wrote ${r.file} (${r.size} bytes, sha256 ${r.sha256}) from ${r.inputs} workspace files${missing.length ? `; not run: ${missing.join(', ')}` : ''}\n`
}
