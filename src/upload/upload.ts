/**
 * Edge (files, network): `detbuild upload` reads the workspace's SBOM (and policy.json + vulns.json for a
 * VEX), checks everything it will send before the first request, sends the SBOM to Dependency-Track, waits
 * until the server has processed it, then sends the VEX and waits again (the server applies a VEX only to
 * findings it already has). It fails closed: a server that says no, cannot be reached, answers with
 * something that is not its API's reply or is still processing when `--wait` runs out is an error, and
 * `upload.json` (the record of what was sent) is written only after everything was processed.
 */
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { IncompleteError, InputError } from '../errors.ts'
import { stableJson } from '../util/canonical-json.ts'
import { sha256Hex } from '../util/digest.ts'
import { showControls } from '../util/file-name.ts'
import { exists, readBytesFile, toPosixRelative, writeFileAtomic } from '../util/fs.ts'
import { parseJson } from '../util/json-parse.ts'
import type { Logger } from '../util/log.ts'
import { readPolicyResult, readVulnsReport, WorkspaceFiles } from '../workspace/index.ts'
import { DtrackClient } from './dtrack-client.ts'
import {
  type ParentRef,
  type ProjectRef,
  toApiKey,
  toBomRequest,
  toDtrackEndpoint,
  toProjectText,
  toVexRequest,
} from './endpoint.ts'
import { toVex } from './vex.ts'

/** Options of {@link runUpload} (`detbuild upload`). */
export interface UploadOptions {
  cwd: string
  out: string
  /** the Dependency-Track API server's base URL (`--url`) */
  url: string
  /** the API key (from the environment) and the variable it came from, for messages */
  apiKey: string | undefined
  apiKeyEnv: string
  /** a UUID, or a name and version (each defaults to the SBOM's metadata.component) */
  project: { uuid: string } | { name?: string; version?: string }
  autoCreate: boolean
  parent?: ParentRef
  /** the SBOM to send (default `<out>/sbom.cdx.json`), relative to `cwd` */
  sbom?: string
  /** send a VEX made from policy.json's exceptions when there is one (default true) */
  vex: boolean
  /** allow `http://` to a host that is not the loopback address */
  allowHttp: boolean
  /** how long the whole upload may take, processing included */
  waitMs: number
  sourceDateEpoch: number
  log: Logger
  /** the first pause between two processing checks (default 0.5 s, growing by half to 5 s) */
  pollIntervalMs?: number
  fetch?: typeof fetch
  sleep?: (ms: number) => Promise<void>
  clock?: () => number
}

/** `upload.json`: what was sent, where, and the server's tokens. */
export interface UploadRecord {
  schemaVersion: 1
  /** the API server's base URL */
  server: string
  project: ProjectRef
  /** the project the server says it stored the SBOM in (Dependency-Track ≥ 5), else null */
  projectUuid: string | null
  autoCreate: boolean
  sbom: { file: string; sha256: string }
  vex: { file: string; sha256: string; statements: number } | null
  tokens: { bom: string; vex?: string }
}

/** What {@link runUpload} sent and recorded. */
export interface UploadResult {
  record: UploadRecord
  /** exceptions or findings the VEX did not state, and why */
  notes: string[]
  /** files written, relative to the project (POSIX) */
  files: string[]
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

/** The project to upload to: the flags, else the SBOM's root component (`@scope/name`, version). */
function resolveProject(given: UploadOptions['project'], sbom: Record<string, unknown>): ProjectRef {
  if ('uuid' in given) return { uuid: given.uuid }
  const root = isObject(sbom.metadata) && isObject(sbom.metadata.component) ? sbom.metadata.component : {}
  const group = typeof root.group === 'string' && root.group !== '' ? `${root.group}/` : ''
  const name = given.name ?? (typeof root.name === 'string' && root.name !== '' ? `${group}${root.name}` : '')
  const version = given.version ?? (typeof root.version === 'string' ? root.version : '')
  if (name.trim() === '' || version.trim() === '')
    throw new InputError(
      'UPLOAD_USAGE',
      `the SBOM's metadata.component gives no project ${name.trim() === '' ? 'name' : 'version'}: pass --project-name and --project-version, or --project UUID`,
    )
  return {
    name: toProjectText(name, given.name !== undefined ? '--project-name' : "the SBOM's project name"),
    version: toProjectText(
      version,
      given.version !== undefined ? '--project-version' : "the SBOM's project version",
    ),
  }
}

/** Sends the SBOM (and a VEX from the policy's exceptions) to Dependency-Track and waits until processed. */
export async function runUpload(o: UploadOptions): Promise<UploadResult> {
  // everything that can be wrong with the request is found before the first byte leaves
  const endpoint = toDtrackEndpoint(o.url, o.allowHttp)
  const apiKey = toApiKey(o.apiKey, o.apiKeyEnv)
  if (!Number.isFinite(o.waitMs) || o.waitMs <= 0)
    throw new InputError('UPLOAD_USAGE', '--wait must be a positive number of seconds')
  const rel = (file: string) => toPosixRelative(o.cwd, file)
  const sbomFile = o.sbom ? path.resolve(o.cwd, o.sbom) : path.join(o.out, WorkspaceFiles.sbomJson)
  const sbomShown = rel(sbomFile)
  if (!(await exists(sbomFile, sbomShown, 'UPLOAD_SBOM_MISSING')))
    throw new InputError(
      'UPLOAD_SBOM_MISSING',
      o.sbom ? 'no such SBOM' : 'no SBOM in the workspace: run detbuild sbom first, or pass --sbom',
      { file: sbomShown },
    )
  const sbomBytes = await readBytesFile(sbomFile, 'UPLOAD_SBOM_INVALID', sbomShown, 'data')
  const sbom = parseJson(sbomBytes.toString('utf8'), sbomShown, 'UPLOAD_SBOM_INVALID')
  if (!isObject(sbom) || sbom.bomFormat !== 'CycloneDX')
    throw new InputError(
      'UPLOAD_SBOM_INVALID',
      'not a CycloneDX JSON document ($.bomFormat is not "CycloneDX")',
      {
        file: sbomShown,
      },
    )
  const sbomSha256 = sha256Hex(sbomBytes)
  const project = resolveProject(o.project, sbom)
  if ('uuid' in project && (o.autoCreate || o.parent))
    throw new InputError(
      'UPLOAD_USAGE',
      '--auto-create and --parent-* create a project by name: not with --project',
    )
  if (o.parent && !o.autoCreate)
    throw new InputError('UPLOAD_USAGE', '--parent-* places a project --auto-create makes: add --auto-create')
  const bomBody = toBomRequest({
    project,
    autoCreate: o.autoCreate,
    ...(o.parent ? { parent: o.parent } : {}),
    sbom: sbomBytes,
  })

  const notes: string[] = []
  let vex: { bytes: Buffer; statements: number } | null = null
  const policyFile = path.join(o.out, WorkspaceFiles.policy)
  const vulnsFile = path.join(o.out, WorkspaceFiles.vulns)
  if (o.vex && (await exists(policyFile, rel(policyFile)))) {
    if (await exists(vulnsFile, rel(vulnsFile))) {
      const made = toVex({
        sbom,
        sbomSha256,
        files: { sbom: sbomShown, policy: rel(policyFile), vulns: rel(vulnsFile) },
        policy: await readPolicyResult(o.out, { display: rel(policyFile) }),
        vulns: await readVulnsReport(o.out, { display: rel(vulnsFile) }),
        sourceDateEpoch: o.sourceDateEpoch,
      })
      notes.push(...made.notes)
      if (made.document) vex = { bytes: Buffer.from(stableJson(made.document)), statements: made.statements }
      else notes.push('no exception in force covers a finding: no VEX to send')
    } else notes.push(`no ${rel(vulnsFile)}: no VEX (the exceptions cover findings of a scan)`)
  }
  const vexBody = vex ? toVexRequest({ project, vex: vex.bytes }) : null

  const files: string[] = []
  const uploadFile = path.join(o.out, WorkspaceFiles.upload)
  const vexFile = path.join(o.out, WorkspaceFiles.uploadVex)
  // a record of an earlier upload must not stand for this one if it fails
  await rm(uploadFile, { force: true })
  if (vex) {
    await writeFileAtomic(vexFile, vex.bytes)
    files.push(rel(vexFile))
  }

  const clock = o.clock ?? (() => performance.now())
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const deadline = clock() + o.waitMs
  const client = new DtrackClient({
    endpoint,
    apiKey,
    log: o.log,
    clock,
    sleep,
    ...(o.fetch ? { fetch: o.fetch } : {}),
  })
  const shownProject = 'uuid' in project ? project.uuid : `${project.name} ${project.version}`
  const waitFor = async (what: string, token: string): Promise<void> => {
    let pause = o.pollIntervalMs ?? 500
    const stillProcessing = () =>
      new IncompleteError(
        'UPLOAD_TIMEOUT',
        `${what}: Dependency-Track was still processing it after --wait ${Math.round(o.waitMs / 1000)} s (token ${token})`,
        { details: { server: endpoint.base, token } },
      )
    for (let polled = false; ; polled = true) {
      let processing: boolean
      try {
        processing = await client.isProcessing(token, deadline)
      } catch (e) {
        // --wait ran out during a check: the last answer was "still processing"
        if (polled && e instanceof IncompleteError && e.code === 'UPLOAD_TIMEOUT') throw stillProcessing()
        throw e
      }
      if (!processing) return
      if (deadline - clock() <= 0) throw stillProcessing()
      o.log.debug(`upload: ${what} is being processed (token ${token})`)
      await sleep(Math.min(pause, deadline - clock()))
      if (deadline - clock() <= 0) throw stillProcessing()
      pause = Math.min(Math.round(pause * 1.5), 5000)
    }
  }

  o.log.info(`uploading ${sbomShown} to ${endpoint.base} (project ${shownProject})`)
  const bom = await client.put('bom', bomBody, deadline).catch((e: unknown) => {
    // the one 404 a flag fixes: say which
    if (
      e instanceof InputError &&
      e.code === 'UPLOAD_PROJECT_NOT_FOUND' &&
      !('uuid' in project) &&
      !o.autoCreate
    )
      throw new InputError(e.code, `${e.message}; pass --auto-create to create it`, {
        ...(e.details ? { details: e.details } : {}),
      })
    throw e
  })
  // a server that stored the SBOM in another project than the one named by UUID is not to be believed
  if ('uuid' in project && bom.projectUuid !== null && bom.projectUuid !== project.uuid)
    throw new IncompleteError(
      'UPLOAD_REPLY_INVALID',
      `PUT /api/v1/bom: the server says it stored the SBOM in project ${bom.projectUuid}, not ${project.uuid}`,
      { details: { server: endpoint.base } },
    )
  await waitFor('the SBOM', bom.token)
  let vexToken: string | undefined
  if (vex && vexBody) {
    o.log.info(`uploading the VEX (${vex.statements} statements)`)
    try {
      vexToken = (await client.put('vex', vexBody, deadline)).token
      await waitFor('the VEX', vexToken)
    } catch (e) {
      // the SBOM is in: say so, with the same code and exit
      if (!(e instanceof InputError || e instanceof IncompleteError)) throw e
      const Same = e instanceof InputError ? InputError : IncompleteError
      throw new Same(
        e.code,
        `the SBOM was uploaded and processed (token ${bom.token}), the VEX was not: ${e.message}`,
        {
          details: { ...e.details, bomToken: bom.token },
        },
      )
    }
  }

  const record: UploadRecord = {
    schemaVersion: 1,
    server: endpoint.base,
    project,
    projectUuid: bom.projectUuid,
    autoCreate: 'uuid' in project ? false : o.autoCreate,
    sbom: { file: sbomShown, sha256: sbomSha256 },
    vex: vex ? { file: rel(vexFile), sha256: sha256Hex(vex.bytes), statements: vex.statements } : null,
    tokens: { bom: bom.token, ...(vexToken ? { vex: vexToken } : {}) },
  }
  await writeFileAtomic(uploadFile, stableJson(record))
  files.push(rel(uploadFile))
  return { record, notes, files }
}

/** The human summary of an upload. */
export function toUploadText(r: UploadResult): string {
  const rec = r.record
  const project = 'uuid' in rec.project ? rec.project.uuid : `"${rec.project.name}" ${rec.project.version}`
  const lines = [
    `uploaded ${rec.sbom.file} (sha256 ${rec.sbom.sha256.slice(0, 12)}…) to ${rec.server}, project ${project}: processed (token ${rec.tokens.bom})`,
  ]
  if (rec.vex)
    lines.push(
      `uploaded ${rec.vex.file} (${rec.vex.statements} not_affected statement${rec.vex.statements === 1 ? '' : 's'}): processed (token ${rec.tokens.vex})`,
    )
  for (const n of r.notes) lines.push(`note: ${n}`)
  lines.push(`recorded in ${r.files[r.files.length - 1]}`)
  // notes quote policy.json and vulns.json (refs, purls): shown, never obeyed as terminal controls
  return lines.map(showControls).join('\n')
}
