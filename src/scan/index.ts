/**
 * The scan step: reads the SBOM, checks every component against OSV (API or offline export),
 * and writes vulns.json, the enriched SBOM, SARIF, markdown and an in-toto statement.
 * Fails closed: a package that could not be checked makes the scan incomplete (exit 3), never clean.
 */
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { resolveRepositoryPath, resolveSourceDate } from '../config/index.ts'
import {
  defaultEcosystems,
  type Ecosystem,
  type EcosystemRegistry,
  type ProjectLock,
  readGoBinary,
} from '../ecosystems/index.ts'
import { ExitCode, InputError } from '../errors.ts'
import { type CacheSeal, openCacheSeal } from '../util/cache-seal.ts'
import { stableJson } from '../util/canonical-json.ts'
import { sha256Hex } from '../util/digest.ts'
import { useEnvProxy } from '../util/env-proxy.ts'
import { exists, readTextFile, toPosixRelative, writeFileAtomic } from '../util/fs.ts'
import type { Logger } from '../util/log.ts'
import { plural } from '../util/plural.ts'
import { redactDeep } from '../util/redact.ts'
import { compareCodePoint } from '../util/sort.ts'
import { WorkspaceFiles } from '../workspace/index.ts'
import { uncheckableReason } from './checkable.ts'
import { countFindings, type FailOn, failsThreshold, isOpen, sortFindings, toFindings } from './findings.ts'
import {
  analyseGoFinding,
  GO_ECOSYSTEM,
  type GoBinaryReader,
  type GoEvidence,
  goQueryPurl,
  loadGoEvidence,
  matchNames,
} from './go-reach.ts'
import { loadOfflineDb, type OfflineDb } from './offline-db.ts'
import { toOpenVex } from './openvex.ts'
import { OsvCache } from './osv-cache.ts'
import { DefaultOsvUrl, OsvClient, type OsvClientOptions, toOsvEndpoint } from './osv-client.ts'
import { OsvIndex, type RecordMatch } from './osv-index.ts'
import { OsvFailure, toReason } from './osv-reply.ts'
import { toAdviceText, toEnrichedSbom, toMarkdown, toSarif, toStatement } from './outputs.ts'
import { parseSbomText, toDirectsOf, toSbomInput } from './sbom-input.ts'
import { applySuppressions, type IgnoreEntry, toDetbuildIgnore, toOsvScannerIgnore } from './suppressions.ts'
import type {
  Finding,
  ScanComponent,
  ScanLocation,
  ScanSource,
  ScanSourceProblem,
  VulnsReport,
} from './types.ts'

export type { FailOn } from './findings.ts'
export { countFindings, failsThreshold, isOpen, sortFindings } from './findings.ts'
export { OsvCacheFolder } from './osv-cache.ts'
export { DefaultOsvUrl } from './osv-client.ts'
export { toAdviceText } from './outputs.ts'
export type { Finding, ScanSource, Upgrade, VulnsReport } from './types.ts'

/** Options of {@link runScan} (`detbuild scan`): the SBOM, the OSV source (API or offline export), the gates. */
export interface ScanOptions {
  cwd: string
  out: string
  /** SBOM path; default `<out>/sbom.cdx.json` */
  sbom?: string
  /** OSV export (zip or folder); when set, no network is used */
  offlineDb?: string
  /**
   * offline: the export's newest `modified` must be at most this many days before `now`, else every
   * package is unchecked (SCAN_EXPORT_STALE, exit 3): old data cannot vouch for a clean result
   */
  maxDbAgeDays?: number
  osvUrl?: string
  /** null disables the cache */
  cacheDir: string | null
  failOn: FailOn | null
  omitDev: boolean
  /** explicit ignore files; default: detbuild.ignore.{json,yaml,yml} and osv-scanner.toml in cwd */
  ignoreFiles?: string[]
  /** the environment the scan may see (the proxy settings) */
  env: NodeJS.ProcessEnv
  /**
   * the scan time written to vulns.json and vulns.intoto.json: the context's source date (seconds);
   * without it, resolved from `cwd` and `env` by the one rule (config/context.ts)
   */
  sourceDateEpoch?: number
  /** the clock: suppression expiry and the offline export's age */
  now: Date
  log: Logger
  /** network knobs (tests) */
  client?: Partial<Omit<OsvClientOptions, 'baseUrl' | 'log' | 'cache'>>
  /** the ecosystems that map purl types and match versions; default: every one detbuild supports */
  ecosystems?: EcosystemRegistry
  /**
   * reads a Go executable's build info and function names (Go reachability, `detbuild:go:binary`);
   * default: detbuild's reader
   */
  goBinaryReader?: GoBinaryReader
  /**
   * the project folder from the repository's top folder (POSIX, `''` at the top): SARIF and annotations
   * name files from there; default: git's answer for `cwd` (`''` outside git: the project folder)
   */
  repositoryPath?: string
}

/** What {@link runScan} found and wrote: the vulns report, the exit code it earns and the files written. */
export interface ScanResult {
  report: VulnsReport
  exitCode: ExitCode
  text: string
  files: string[]
}

export const DefaultIgnoreFiles = [
  'detbuild.ignore.json',
  'detbuild.ignore.yaml',
  'detbuild.ignore.yml',
  'osv-scanner.toml',
]

/** Load → compute → write: reads the SBOM, lockfile and ignores, matches, writes the five outputs. */
export async function runScan(o: ScanOptions): Promise<ScanResult> {
  const loaded = await loadScanInputs(o)
  const selected = selectComponents(loaded, o)
  const matched = o.offlineDb
    ? await matchOffline(o, selected.toCheck, loaded.ecosystems)
    : await matchOnline(o, selected.toCheck, loaded.ecosystems)
  const unchecked = new Map([...selected.unchecked, ...matched.unchecked])
  // Go findings: the executable or the source each is compared with (read only when there are some)
  const withGoFindings = [...matched.matches].filter(([c, l]) => c.ecosystem === GO_ECOSYSTEM && l.length > 0)
  const goEvidence = await loadGoEvidence(
    withGoFindings.map(([c]) => c),
    selected.toCheck,
    { cwd: o.cwd, env: o.env, reader: o.goBinaryReader ?? readGoBinary },
  )
  const { report, expired } = toVulnsReport(loaded, o, { ...selected, ...matched, unchecked }, goEvidence)
  for (const e of expired)
    o.log.warn(`suppression of ${e.id} (${e.source}) expired on ${e.until}; it no longer applies`)
  // made and written one at a time: only one output's text is held at once
  const files = toScanFiles(report, loaded, o)
  for (const [name, content] of files) await writeFileAtomic(path.join(o.out, name), content())
  // a VEX document left by an earlier scan would speak for findings this one does not have
  if (!files.some(([name]) => name === WorkspaceFiles.vulnsOpenVex))
    await rm(path.join(o.out, WorkspaceFiles.vulnsOpenVex), { force: true })
  return toScanResult(
    report,
    o.failOn,
    files.map(([name]) => name),
  )
}

/** What a scan reads: the SBOM, the lockfile (for spellings and fix ranges), the suppressions. */
interface ScanInputs {
  sbomPath: string
  sbomText: string
  sbomRaw: Record<string, unknown>
  input: ReturnType<typeof toSbomInput>
  /** the ecosystems that map purl types and order versions (`o.ecosystems`, else every one detbuild has) */
  ecosystems: EcosystemRegistry
  /** the project's ecosystem: its lock file gives advice and SARIF locations */
  project: Ecosystem
  lock: ProjectLock | null
  ignores: IgnoreEntry[]
  scanTime: Date
  /** where findings point, from the repository's top folder */
  location: ScanLocation
}

/** Load: the SBOM, package-lock.json when there is one, the ignore files, the scan time. */
async function loadScanInputs(o: ScanOptions): Promise<ScanInputs> {
  const sbomPath = o.sbom ? path.resolve(o.cwd, o.sbom) : path.join(o.out, WorkspaceFiles.sbomJson)
  const sbomDisplay = displayPath(o, sbomPath)
  if (!(await exists(sbomPath))) {
    throw new InputError(
      'SCAN_SBOM_MISSING',
      o.sbom ? 'SBOM not found' : 'SBOM not found; run `detbuild sbom` first or pass --sbom FILE',
      { file: sbomDisplay },
    )
  }
  const sbomText = await readTextFile(sbomPath, 'SCAN_SBOM_MISSING', sbomDisplay)
  // CycloneDX or SPDX, detected from the content, in CycloneDX shape (src/sbom-read/index.ts)
  const sbomRaw = await parseSbomText(sbomText, sbomDisplay)
  const ecosystems = o.ecosystems ?? defaultEcosystems
  const input = toSbomInput(sbomRaw, sbomDisplay, ecosystems)

  // the project's ecosystem reads its lock file (advice, SARIF locations)
  const project = await ecosystems.detect(o.cwd)
  const lock = (await project.readProjectLock?.(o.cwd)) ?? null
  if (o.maxDbAgeDays !== undefined && !o.offlineDb)
    throw new InputError('SCAN_USAGE', '--max-db-age applies to an offline export (--offline-db) only')
  const ignores = await loadIgnores(o)
  const scanTime = new Date((o.sourceDateEpoch ?? (await resolveSourceDate(o.cwd, o.env)).epoch) * 1000)
  // outside git, the project folder stands for the repository's top folder
  const repositoryPath = o.repositoryPath ?? (await resolveRepositoryPath(o.cwd)) ?? ''
  const location = toScanLocation(repositoryPath, lock ? lock.file : project.manifestFile)
  return { sbomPath, sbomText, sbomRaw, input, ecosystems, project, lock, ignores, scanTime, location }
}

interface Selection {
  /** purl (or SBOM ref) → why it was not checked */
  unchecked: Map<string, string>
  toCheck: ScanComponent[]
  excludedDev: number
}

/** Pure: the components to match, and those no source can answer for (with the reason). */
function selectComponents({ input, ecosystems, project, lock }: ScanInputs, o: ScanOptions): Selection {
  const unchecked = new Map<string, string>()
  for (const u of input.unchecked) unchecked.set(u.ref, u.reason)
  // a name the SBOM gave only in lowercase: the project's lock file may know how it is spelled
  const all = input.components.map((c) => {
    if (c.exactName || c.ecosystem !== project.osvEcosystem || lock === null) return c
    const spelled = lock.spelling(c.name, c.version)
    return spelled === null ? c : { ...c, name: spelled, exactName: true }
  })
  const components = o.omitDev ? all.filter((c) => !c.dev) : all
  const excludedDev = all.length - components.length
  const toCheck: ScanComponent[] = []
  for (const c of components) {
    const reason = uncheckableReason(c, ecosystems, Boolean(o.offlineDb))
    if (reason === null) toCheck.push(c)
    else unchecked.set(c.purl, reason)
  }
  return { unchecked, toCheck, excludedDev }
}

interface Matched {
  matches: Map<ScanComponent, RecordMatch[]>
  source: ScanSource
  /** packages the source could not answer for, with the reason */
  unchecked: Map<string, string>
}

/** Load + compute: the offline export's records for the packages to check. */
async function matchOffline(
  o: ScanOptions,
  toCheck: ScanComponent[],
  ecosystems: EcosystemRegistry,
): Promise<Matched> {
  const unchecked = new Map<string, string>()
  const matches = new Map<ScanComponent, RecordMatch[]>()
  const dbPath = path.resolve(o.cwd, o.offlineDb!)
  const db = await loadOfflineDb(dbPath, displayPath(o, dbPath), {
    // only records naming an SBOM package are parsed and kept: memory follows the SBOM, not the export
    names: new Set(toCheck.flatMap((c) => matchNames(c))),
    indexCacheDir: o.cacheDir === null ? null : path.join(o.cacheDir, 'offline-index'),
    ...(o.cacheDir === null ? {} : { indexCacheSeal: await cacheSeal(o) }),
  })
  o.log.debug(
    `osv: ${db.records} records, ${db.withdrawn} withdrawn skipped, ${db.index.size} kept; index cache ${db.indexCache}`,
  )
  const source: ScanSource = {
    kind: 'offline',
    export: db.name,
    exportSha256: db.sha256,
    records: Object.fromEntries(db.ecosystems),
    lastUpdate: db.lastUpdate,
  }
  const problem = exportProblem(db, toCheck, o)
  if (problem !== null) {
    source.problem = { code: problem.code, message: problem.message }
    for (const c of problem.unchecked) unchecked.set(c.purl, problem.reason)
  }
  // stale data still shows what it knows (the packages stay unchecked); no data checks nothing
  const none = new Set(problem?.code === 'SCAN_EXPORT_NO_RECORDS' ? problem.unchecked : [])
  for (const c of toCheck)
    if (!none.has(c)) {
      const eco = c.ecosystem!
      const order = ecosystems.versionsFor(eco)
      // the Go release is matched as `stdlib` and as `toolchain`: one list, in id order
      const list = matchNames(c).flatMap((n) => db.index.match(eco, n, c.version, !c.exactName, order))
      matches.set(c, list.length > 1 ? list.sort((a, b) => compareCodePoint(a.record.id, b.record.id)) : list)
    }
  return { matches, source, unchecked }
}

/** Load (network) + compute: the OSV API's records for the packages to check. */
async function matchOnline(
  o: ScanOptions,
  toCheck: ScanComponent[],
  ecosystems: EcosystemRegistry,
): Promise<Matched> {
  const unchecked = new Map<string, string>()
  const matches = new Map<ScanComponent, RecordMatch[]>()
  const endpoint = toOsvEndpoint(o.osvUrl ?? DefaultOsvUrl)
  // the message never quotes the URL: it may carry credentials
  if ('invalid' in endpoint) throw new InputError('SCAN_USAGE', `--osv-url ${endpoint.invalid}`)
  const source: ScanSource = { kind: 'api', url: endpoint.display, lastUpdate: null }
  const restore = o.client?.fetch ? () => {} : await useEnvProxy(o.env, o.log)
  try {
    const client = new OsvClient({
      ...o.client,
      baseUrl: o.osvUrl ?? DefaultOsvUrl,
      log: o.log,
      // records are cached per source: what one server sent never answers a scan against another
      cache: o.cacheDir ? new OsvCache(o.cacheDir, `api ${endpoint.display}`, await cacheSeal(o)) : null,
    })
    const queryPurls = new Map(toCheck.map((c) => [c, queryPurlsOf(c, ecosystems)]))
    const q = await client.queryBatch([...new Set([...queryPurls.values()].flat())].sort(compareCodePoint))
    const hydrated = await client.getVulns([...q.vulns.values()].flat())
    const helper = new OsvIndex()
    for (const c of toCheck) {
      const purls = queryPurls.get(c)!
      const failed = purls.map((p) => q.failed.get(p)).find((f) => f !== undefined)
      if (failed !== undefined) {
        unchecked.set(c.purl, toReason(failed))
        continue
      }
      const list: RecordMatch[] = []
      const refs = new Map(purls.flatMap((p) => q.vulns.get(p) ?? []).map((r) => [r.id, r]))
      for (const ref of refs.values()) {
        const record = hydrated.records.get(ref.id)
        if (!record) {
          // the vulnerability is known to apply; its details are not: report it, and say so
          const why = hydrated.failed.get(ref.id) ?? {
            code: OsvFailure.unavailable,
            message: 'not fetched',
          }
          unchecked.set(
            c.purl,
            toReason({ ...why, message: `details of ${ref.id} unavailable: ${why.message}` }),
          )
          list.push({ record: { id: ref.id, modified: ref.modified }, fixed: [], unparsable: false })
          continue
        }
        if (record.withdrawn) continue
        const eco = c.ecosystem!
        const order = ecosystems.versionsFor(eco)
        const fixes = matchNames(c).map((n) =>
          helper.fixesFor(record, eco, n, c.version, !c.exactName, order),
        )
        list.push({
          record,
          fixed: fixes.flatMap((f) => f.fixed),
          unparsable: fixes.some((f) => f.unparsable),
        })
        if (source.lastUpdate === null || record.modified > source.lastUpdate)
          source.lastUpdate = record.modified
      }
      matches.set(
        c,
        list.sort((a, b) => compareCodePoint(a.record.id, b.record.id)),
      )
    }
  } finally {
    restore()
  }
  return { matches, source, unchecked }
}

/**
 * Pure: the findings (suppressions applied, by the real clock: SOURCE_DATE_EPOCH, the source's time,
 * would never expire anything) and vulns.json's report; `expired` are the suppressions that lapsed.
 */
function toVulnsReport(
  { sbomPath, sbomText, input, ecosystems, lock, ignores, location }: ScanInputs,
  o: ScanOptions,
  { matches, source, unchecked, excludedDev }: Matched & Selection,
  goEvidence: ReadonlyMap<ScanComponent, GoEvidence>,
): { report: VulnsReport; expired: ReturnType<typeof applySuppressions>['expired'] } {
  let findings: Finding[] = []
  const directsOf = toDirectsOf(input)
  for (const [c, list] of matches)
    if (list.length > 0) {
      const order = ecosystems.versionsFor(c.ecosystem!)
      const found = toFindings(c, list, lock, order, directsOf(c.bomRef))
      const evidence = goEvidence.get(c)
      if (evidence === undefined) findings.push(...found)
      else
        for (const f of found) {
          const records = list.filter((m) => f.records.includes(m.record.id))
          findings.push({ ...f, analysis: analyseGoFinding(records, c, order, evidence) })
        }
    }
  const applied = applySuppressions(findings, ignores, o.now)
  findings = sortFindings(applied.findings)
  const uncheckedList = [...unchecked.keys()].sort(compareCodePoint)
  const report: VulnsReport = redactDeep({
    schemaVersion: 1,
    sbom: { file: displaySbomName(o, sbomPath), sha256: sha256Hex(sbomText) },
    source,
    complete: uncheckedList.length === 0,
    unchecked: uncheckedList,
    uncheckedReasons: Object.fromEntries(uncheckedList.map((u) => [u, unchecked.get(u)!])),
    findings,
    counts: countFindings(findings),
    suppressedCount: findings.filter((f) => f.suppressed).length,
    excludedDev,
    expiredSuppressions: applied.expired,
    componentsChecked: matches.size,
    location,
  })
  return { report, expired: applied.expired }
}

/** The key that seals the caches; says so when it lives for this run only (nothing cached is then read). */
async function cacheSeal(o: ScanOptions): Promise<CacheSeal> {
  const seal = await openCacheSeal(o.env)
  if (seal.origin === 'run')
    o.log.warn(
      'the cache key file could not be used or made: cached records and indexes are not read this run (set DETBUILD_CACHE_KEY, or fix $XDG_STATE_HOME/detbuild/cache-key)',
    )
  return seal
}

/** Pure: the five outputs (six with Go findings: vulns.openvex.json), by workspace file name, each made when asked for. */
function toScanFiles(
  report: VulnsReport,
  { sbomRaw, ignores, scanTime }: ScanInputs,
  o: ScanOptions,
): Array<[string, () => string]> {
  const vulnsJson = stableJson(report)
  const vulnsSha256 = sha256Hex(vulnsJson)
  const root = (sbomRaw.metadata as { component?: { purl?: unknown } } | undefined)?.component?.purl
  const vex = toOpenVex(report, {
    product: typeof root === 'string' ? root : null,
    timestamp: scanTime.toISOString(),
  })
  return [
    // Go findings' reachability, when there are any (vulns.json holds the same analysis)
    ...(vex === null
      ? []
      : ([[WorkspaceFiles.vulnsOpenVex, () => stableJson(vex)]] as Array<[string, () => string]>)),
    [WorkspaceFiles.vulns, () => vulnsJson],
    [WorkspaceFiles.vulnsSarif, () => stableJson(toSarif(report))],
    [WorkspaceFiles.vulnsMarkdown, () => toMarkdown(report)],
    [WorkspaceFiles.vulnsSbom, () => stableJson(toEnrichedSbom(sbomRaw, report))],
    [
      WorkspaceFiles.vulnsStatement,
      () =>
        stableJson(
          toStatement(report, {
            vulnsSha256,
            scanTime: scanTime.toISOString(),
            parameters: {
              source: report.source.kind,
              ...(o.failOn ? { failOn: o.failOn } : {}),
              omitDev: o.omitDev,
              ignoreFiles: [...new Set(ignores.map((i) => i.file))].sort(compareCodePoint),
            },
          }),
        ),
    ],
  ]
}

/** Pure: incomplete (exit 3) wins over findings at --fail-on (exit 1). */
function toScanResult(report: VulnsReport, failOn: FailOn | null, written: string[]): ScanResult {
  const failing = failOn ? report.findings.filter((f) => failsThreshold(f, failOn)) : []
  const exitCode: ExitCode = !report.complete
    ? ExitCode.incomplete
    : failing.length > 0
      ? ExitCode.checkFailed
      : ExitCode.ok
  return {
    report,
    exitCode,
    text: summaryText(report, failOn, failing.length),
    files: written.sort(compareCodePoint),
  }
}

/** How many unchecked packages the summary lists one by one. */
const MAX_UNCHECKED_SHOWN = 50

function canonicalPurl(c: ScanComponent): string {
  // qualifiers and subpaths are not part of the package identity OSV knows
  return c.purl.replace(/[?#].*$/, '')
}

/**
 * The purls to ask OSV about: the SBOM's, as the component's ecosystem spells it (`Ecosystem.queryPurl`);
 * a Go package as OSV's Go records write it, the Go release as both `stdlib` and `toolchain`.
 */
function queryPurlsOf(c: ScanComponent, ecosystems: EcosystemRegistry): string[] {
  if (c.ecosystem === GO_ECOSYSTEM) return matchNames(c).map((n) => goQueryPurl(n, c.version))
  return [queryPurlOf(c, ecosystems)]
}

function queryPurlOf(c: ScanComponent, ecosystems: EcosystemRegistry): string {
  const purl = canonicalPurl(c)
  const adapter = c.ecosystem === null ? undefined : ecosystems.byOsvEcosystem(c.ecosystem)
  return adapter?.queryPurl?.(purl, c) ?? purl
}

interface ExportProblem {
  code: ScanSourceProblem
  message: string
  /** the one-line reason given for each package */
  reason: string
  unchecked: ScanComponent[]
}

/**
 * What keeps an export from answering for these packages: no usable record of their ecosystem at all
 * (an empty folder, another ecosystem's export, a ZIP of other files), or data older than --max-db-age.
 * Null when none. (Offline, every package to check has an ecosystem adapter.)
 */
function exportProblem(db: OfflineDb, toCheck: ScanComponent[], o: ScanOptions): ExportProblem | null {
  if (toCheck.length === 0) return null
  const held = (e: string): number => db.ecosystems.find(([x]) => x === e)?.[1] ?? 0
  const empty = [...new Set(toCheck.map((c) => c.ecosystem!))]
    .sort(compareCodePoint)
    .filter((e) => held(e) === 0)
  if (empty.length > 0) {
    const none = toCheck.filter((c) => empty.includes(c.ecosystem!))
    const others = db.ecosystems.map(([e, n]) => `${e} ${n}`).join(', ') || 'none'
    const names = empty.join(', ')
    const holds = `export ${db.name} holds 0 ${names} records (records: ${others})`
    return {
      code: 'SCAN_EXPORT_NO_RECORDS',
      message: `${holds}; ${plural(none.length, `${names} package`)} unchecked`,
      reason: holds,
      unchecked: none,
    }
  }
  if (o.maxDbAgeDays === undefined) return null
  const newest = db.lastUpdate === null ? Number.NaN : Date.parse(db.lastUpdate)
  const limit = o.now.getTime() - o.maxDbAgeDays * 86_400_000
  if (newest >= limit) return null
  const age = Number.isNaN(newest)
    ? `its newest record date (${JSON.stringify(db.lastUpdate)}) is not a date`
    : `its newest record was modified ${db.lastUpdate}, more than ${plural(o.maxDbAgeDays, 'day')} before ${o.now.toISOString()}`
  const reason = `export ${db.name} is older than --max-db-age ${o.maxDbAgeDays}: ${age}`
  return {
    code: 'SCAN_EXPORT_STALE',
    message: `${reason}; ${plural(toCheck.length, 'package')} unchecked`,
    reason,
    unchecked: toCheck,
  }
}

/** Pure: the lock file's (or manifest's) path from the repository's top folder, POSIX. */
function toScanLocation(repositoryPath: string, file: string): ScanLocation {
  const rel = file.split(path.sep).join('/')
  return repositoryPath === ''
    ? { projectPath: '.', file: rel }
    : { projectPath: repositoryPath, file: `${repositoryPath}/${rel}` }
}

function displayPath(o: ScanOptions, file: string): string {
  const rel = toPosixRelative(o.cwd, file)
  return rel.startsWith('..') ? path.basename(file) : rel
}

function displaySbomName(o: ScanOptions, sbomPath: string): string {
  if (path.dirname(sbomPath) === o.out) return path.basename(sbomPath)
  return displayPath(o, sbomPath)
}

async function loadIgnores(o: ScanOptions): Promise<IgnoreEntry[]> {
  const explicit = o.ignoreFiles && o.ignoreFiles.length > 0
  const candidates = explicit ? o.ignoreFiles! : DefaultIgnoreFiles
  const out: IgnoreEntry[] = []
  for (const f of candidates) {
    const file = path.resolve(o.cwd, f)
    if (!explicit && !(await exists(file))) continue
    const display = displayPath(o, file)
    const text = await readTextFile(file, 'SCAN_IGNORE_FILE_INVALID', display, 'config')
    out.push(
      ...(path.basename(file).endsWith('.toml')
        ? toOsvScannerIgnore(text, display)
        : toDetbuildIgnore(text, display)),
    )
  }
  return out
}

function summaryText(r: VulnsReport, failOn: FailOn | null, failing: number): string {
  const lines: string[] = []
  const c = r.counts
  const notAffected = r.findings.filter((f) => !f.suppressed && f.analysis?.state === 'not_affected').length
  const open = r.findings.length - r.suppressedCount - notAffected
  if (r.source.problem) lines.push(`${r.source.problem.code}: ${r.source.problem.message}`)
  lines.push(
    `scan: ${plural(r.componentsChecked, 'package')} checked against ${r.source.kind === 'api' ? r.source.url : `offline export ${r.source.export}`}`,
  )
  lines.push(
    `findings: ${open} open (critical ${c.critical}, high ${c.high}, medium ${c.medium}, low ${c.low}, none ${c.none}, unknown ${c.unknown}), ${r.suppressedCount} suppressed${notAffected > 0 ? `, ${notAffected} not affected (vulnerable code not in the program: ${WorkspaceFiles.vulnsOpenVex})` : ''}`,
  )
  // worst first (the findings' order); each with the direct dependencies to upgrade
  for (const f of r.findings) {
    if (!isOpen(f)) continue
    const advice = toAdviceText(f)
    lines.push(
      `  ${f.severity.padEnd(8)} ${f.name}@${f.version}  ${f.id}${f.fixed ? `  fixed in ${f.fixed}` : '  no fix'}${advice ? `  ${advice}` : ''}`,
    )
  }
  if (!r.complete) {
    lines.push(
      `INCOMPLETE: ${plural(r.unchecked.length, 'package')} ${r.unchecked.length === 1 ? 'was' : 'were'} NOT checked; this is not a clean result:`,
    )
    // the first ones here; every one of them, with its reason, in vulns.json and --json
    for (const u of r.unchecked.slice(0, MAX_UNCHECKED_SHOWN)) lines.push(`  ${u}: ${r.uncheckedReasons[u]}`)
    if (r.unchecked.length > MAX_UNCHECKED_SHOWN)
      lines.push(
        `  … and ${r.unchecked.length - MAX_UNCHECKED_SHOWN} more: every one is listed in vulns.json`,
      )
  } else if (failOn && failing > 0) {
    lines.push(`FAIL: ${plural(failing, 'finding')} at or above --fail-on ${failOn}`)
  } else if (open === 0) {
    lines.push('no known vulnerabilities in the checked packages')
  }
  return `${lines.join('\n')}\n`
}
