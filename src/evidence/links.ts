/**
 * The links between evidence files, pure: each file records the digests of what it was made from
 * (vulns.json → the SBOM, policy.json → sbom/vulns/build/signatures, repro-report.json and the
 * provenance → the artifacts, signatures.json and the sigstore bundles → what they sign). A file whose
 * recorded input is not the one present was made from an older build, SBOM or scan: `detbuild bundle`
 * refuses to sign it and `verify --evidence` rejects it. The same function serves both, so what is
 * signed is exactly what is later re-checked.
 */
import path from 'node:path'
import { PROVENANCE_BUNDLE, SIGNATURES_FILE, VULNS_BUNDLE } from '../sign/index.ts'
import { stableJson } from '../util/canonical-json.ts'
import { sha256Hex, sriToHex } from '../util/digest.ts'
import { parseJsonText } from '../util/json-parse.ts'
import { compareCodePoint } from '../util/sort.ts'
import {
  parseBuildManifest,
  parsePolicyResult,
  parseProvenance,
  parseReproReport,
  parseSignatures,
  parseVulnsReport,
  parseVulnsStatement,
  WorkspaceFiles,
} from '../workspace/index.ts'
import { typedMember } from './typed-member.ts'
import { APPLIED_POLICY_DIR } from './types.ts'

/**
 * `subjects`: the artifacts, the provenance subjects and the build outputs are not the same set.
 * `stale`: a file records an input other than the one present (made from an older one).
 * `missing`: a file names an input that is not there.
 */
export type LinkProblemKind = 'subjects' | 'stale' | 'missing'

export interface LinkProblem {
  kind: LinkProblemKind
  /** the file whose claim does not hold */
  file: string
  message: string
  expected?: string
  found?: string
}

/** An artifact as the evidence knows it: path `artifacts/<name>` and its digests. */
export interface LinkArtifact {
  path: string
  sha256: string
  /** sha512 SRI string */
  integrity?: string
  size?: number
}

type Obj = Record<string, unknown>
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const arrayOf = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObject) : [])
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

function json(data: Uint8Array | undefined): Obj | undefined {
  if (data === undefined) return undefined
  try {
    const v: unknown = parseJsonText(Buffer.from(data).toString('utf8'))
    return isObject(v) ? v : undefined
  } catch {
    // an unreadable file is the validator's finding, not a link problem
    return undefined
  }
}

/**
 * A workspace file as its schema types it (the readers' own check), or undefined: a file that is absent,
 * unreadable or refused by its schema is the validator's finding, not a link problem.
 */
function typed<T>(parse: (bytes: Uint8Array) => T, data: Uint8Array | undefined): T | undefined {
  return typedMember(parse, data) ?? undefined
}

const sha512Of = (a: LinkArtifact): string | undefined => {
  if (a.integrity === undefined) return undefined
  try {
    return sriToHex(a.integrity).get('sha512')
  } catch {
    return undefined
  }
}

const setText = (entries: Iterable<string>): string =>
  [...entries].sort(compareCodePoint).join(', ') || '(none)'

/**
 * Every link that does not hold, sorted by file. `files` are the evidence files by workspace path;
 * `artifacts` the build outputs present (their bytes need not be in `files`).
 */
export function checkLinks(
  files: ReadonlyMap<string, Uint8Array>,
  artifacts: readonly LinkArtifact[],
): LinkProblem[] {
  const problems: LinkProblem[] = []
  const digestOf = (name: string): string | undefined => {
    const a = artifacts.find((x) => x.path === name)
    if (a) return a.sha256
    const data = files.get(name)
    return data === undefined ? undefined : sha256Hex(data)
  }
  const linkTo = (file: string, input: string, recorded: string | undefined, what: string): void => {
    const present = digestOf(input)
    if (present === undefined)
      problems.push({
        kind: 'missing',
        file,
        message: `${file} was made from ${input} (${what}), which is not in the evidence`,
        ...(recorded ? { expected: recorded } : {}),
      })
    else if (recorded !== present)
      problems.push({
        kind: 'stale',
        file,
        message: `${file} was made from another ${input} than the one present (${what}): run the step that writes ${file} again`,
        expected: present,
        found: recorded ?? '(none)',
      })
  }

  // the artifacts, the provenance subjects and the build outputs: one set, by name and digest
  const build = typed(parseBuildManifest, files.get(WorkspaceFiles.buildManifest))
  const provenance = typed(parseProvenance, files.get(WorkspaceFiles.provenance))
  const present = new Set(artifacts.map((a) => `${a.path} sha256:${a.sha256}`))
  if (build) {
    const outputs = new Set(arrayOf(build.outputs).map((o) => `${str(o.path)} sha256:${str(o.sha256)}`))
    if (setText(outputs) !== setText(present))
      problems.push({
        kind: 'subjects',
        file: WorkspaceFiles.buildManifest,
        message: `the outputs in build.json are not the artifacts present: made by another build`,
        expected: setText(present),
        found: setText(outputs),
      })
    // the other digests and the size of each output must be the artifact's too
    for (const o of arrayOf(build.outputs)) {
      const a = artifacts.find((x) => x.path === o.path && x.sha256 === o.sha256)
      if (!a) continue
      const claims: Array<[string, unknown, string | number | undefined]> = [
        ['integrity', o.integrity, a.integrity],
        ['sha512', o.sha512, sha512Of(a)],
        ['size', o.size, a.size],
      ]
      for (const [field, claimed, actual] of claims)
        if (actual !== undefined && claimed !== actual)
          problems.push({
            kind: 'subjects',
            file: WorkspaceFiles.buildManifest,
            message: `the ${field} of ${a.path} in build.json is not the artifact's`,
            expected: String(actual),
            found: String(claimed),
          })
    }
  }
  if (provenance) {
    const subjects = new Set(
      arrayOf(provenance.subject).map((s) => {
        const d = isObject(s.digest) ? s.digest : {}
        return `${WorkspaceFiles.artifactsDir}/${str(s.name)} sha256:${str(d.sha256)}`
      }),
    )
    for (const s of arrayOf(provenance.subject)) {
      const d = isObject(s.digest) ? s.digest : {}
      const a = artifacts.find((x) => x.path === `${WorkspaceFiles.artifactsDir}/${str(s.name)}`)
      const sha512 = a ? sha512Of(a) : undefined
      if (sha512 !== undefined && d.sha512 !== undefined && d.sha512 !== sha512)
        problems.push({
          kind: 'subjects',
          file: WorkspaceFiles.provenance,
          message: `the sha512 of subject ${str(s.name)} is not the artifact's`,
          expected: sha512,
          found: String(d.sha512),
        })
    }
    if (setText(subjects) !== setText(present))
      problems.push({
        kind: 'subjects',
        file: WorkspaceFiles.provenance,
        message: `the subjects of provenance.intoto.json are not the artifacts present: made by another build`,
        expected: setText(present),
        found: setText(subjects),
      })
  }

  // repro-report.json: only when build.json says this build was checked, and about these artifacts
  const repro = typed(parseReproReport, files.get(WorkspaceFiles.reproReport))
  if (files.has(WorkspaceFiles.reproReport) && build) {
    const r = build.reproducibility
    if (r.report !== WorkspaceFiles.reproReport)
      problems.push({
        kind: 'stale',
        file: WorkspaceFiles.reproReport,
        message:
          'repro-report.json is from an earlier build: the last build (build.json) was not checked; run detbuild build --check, or remove it',
      })
    else if (repro) {
      if (repro.reproducible !== r.reproducible)
        problems.push({
          kind: 'stale',
          file: WorkspaceFiles.reproReport,
          message: 'repro-report.json and build.json disagree on whether the build is reproducible',
          expected: String(r.reproducible),
          found: String(repro.reproducible),
        })
      const compared = new Set(
        repro.outputs.map((o) => `${WorkspaceFiles.artifactsDir}/${o.name} sha256:${o.sha256?.first}`),
      )
      if (setText(compared) !== setText(present))
        problems.push({
          kind: 'stale',
          file: WorkspaceFiles.reproReport,
          message: 'repro-report.json compared other artifacts than the ones present',
          expected: setText(present),
          found: setText(compared),
        })
    }
  }
  if (build && !files.has(WorkspaceFiles.reproReport)) {
    const r = build.reproducibility
    if (r.report === WorkspaceFiles.reproReport)
      problems.push({
        kind: 'missing',
        file: WorkspaceFiles.buildManifest,
        message: 'build.json names repro-report.json, which is not in the evidence',
      })
  }
  if (files.has(WorkspaceFiles.reproReportMd) && !files.has(WorkspaceFiles.reproReport))
    problems.push({
      kind: 'stale',
      file: WorkspaceFiles.reproReportMd,
      message: 'repro-report.md without repro-report.json: it is from an earlier build',
    })

  // the scan: vulns.json → the SBOM it read; its derived files → vulns.json
  const vulns = typed(parseVulnsReport, files.get(WorkspaceFiles.vulns))
  if (vulns) {
    const recorded = vulns.sbom.sha256
    const name = path.posix.basename(vulns.sbom.file)
    const candidate = files.has(name) ? name : WorkspaceFiles.sbomJson
    linkTo(WorkspaceFiles.vulns, candidate, recorded, 'the SBOM it scanned')
  }
  const statement = typed(parseVulnsStatement, files.get(WorkspaceFiles.vulnsStatement))
  if (statement) {
    const detbuild = isObject(statement.predicate) && isObject(statement.predicate.detbuild)
    const v = detbuild ? (statement.predicate as Obj).detbuild : undefined
    const d = isObject(v) && isObject(v.vulns) && isObject(v.vulns.digest) ? v.vulns.digest : {}
    linkTo(WorkspaceFiles.vulnsStatement, WorkspaceFiles.vulns, str(d.sha256), 'the scan it attests')
    const subject = arrayOf(statement.subject)[0]
    const sd = subject && isObject(subject.digest) ? subject.digest : {}
    const name = path.posix.basename(str(subject?.name) ?? WorkspaceFiles.sbomJson)
    linkTo(
      WorkspaceFiles.vulnsStatement,
      files.has(name) ? name : WorkspaceFiles.sbomJson,
      str(sd.sha256),
      'the SBOM it attests',
    )
  }
  for (const derived of [
    WorkspaceFiles.vulnsSarif,
    WorkspaceFiles.vulnsMarkdown,
    WorkspaceFiles.vulnsSbom,
    WorkspaceFiles.vulnsOpenVex,
  ])
    if (files.has(derived) && !files.has(WorkspaceFiles.vulns))
      problems.push({
        kind: 'missing',
        file: derived,
        message: `${derived} without vulns.json: the scan it comes from is not in the evidence`,
      })
  const enriched = json(files.get(WorkspaceFiles.vulnsSbom))
  if (enriched && vulns) {
    // sbom.vulns.cdx.json is the scanned SBOM plus `vulnerabilities`: the rest must be that SBOM
    const sbomName = path.posix.basename(
      str(isObject(vulns.sbom) ? vulns.sbom.file : undefined) ?? WorkspaceFiles.sbomJson,
    )
    const scanned = json(files.get(sbomName) ?? files.get(WorkspaceFiles.sbomJson))
    const { vulnerabilities: _a, ...rest } = enriched
    const { vulnerabilities: _b, ...base } = scanned ?? {}
    if (scanned && stableJson(rest) !== stableJson(base))
      problems.push({
        kind: 'stale',
        file: WorkspaceFiles.vulnsSbom,
        message:
          'sbom.vulns.cdx.json is not the scanned SBOM with its vulnerabilities: it is from another scan',
      })
  }

  // the policy result → the inputs it read, and the policy file it applied
  const policy = typed(parsePolicyResult, files.get(WorkspaceFiles.policy))
  if (policy) {
    const inputs: Record<string, unknown> = policy.inputs
    const named: Array<[string, string]> = [
      ['sbom', WorkspaceFiles.sbomJson],
      ['vulns', WorkspaceFiles.vulns],
      ['build', WorkspaceFiles.buildManifest],
      ['signatures', SIGNATURES_FILE],
    ]
    for (const [key, fallback] of named) {
      const input = inputs[key]
      if (isObject(input)) {
        const name = path.posix.basename(str(input.file) ?? fallback)
        linkTo(
          WorkspaceFiles.policy,
          files.has(name) ? name : fallback,
          str(input.sha256),
          `its ${key} input`,
        )
      } else if (key !== 'signatures' && files.has(fallback))
        // signatures are usually made after the policy; anything else present was not judged
        problems.push({
          kind: 'stale',
          file: WorkspaceFiles.policy,
          message: `policy.json was evaluated without ${fallback}, which is in the evidence: run detbuild policy again`,
        })
    }
    const p = policy.policy
    for (const [name, data] of files)
      if (name.startsWith(`${APPLIED_POLICY_DIR}/`) && sha256Hex(data) !== p.sha256)
        problems.push({
          kind: 'stale',
          file: name,
          message: `${name} is not the policy file policy.json applied`,
          expected: p.sha256,
          found: sha256Hex(data),
        })
  }

  // signatures.json → each bundle and its subject; every bundle → what it signs
  const signatures = typed(parseSignatures, files.get(SIGNATURES_FILE))
  const listed = new Set<string>()
  for (const entry of arrayOf(signatures?.bundles)) {
    const file = str(entry.file) ?? ''
    const subject = str(entry.subject) ?? ''
    listed.add(file)
    if (!files.has(file))
      problems.push({
        kind: 'missing',
        file: SIGNATURES_FILE,
        message: `signatures.json lists ${file}, which is not in the evidence`,
      })
    linkTo(SIGNATURES_FILE, subject, str(entry.sha256), `the subject of ${file}`)
  }
  for (const [name, data] of files) {
    if (!name.endsWith('.sigstore.json')) continue
    const bundle = json(data)
    if (!bundle) continue
    if (signatures && !listed.has(name))
      problems.push({
        kind: 'stale',
        file: name,
        message: `${name} is not listed in signatures.json: it is from an earlier signing`,
      })
    if (name === PROVENANCE_BUNDLE || name === VULNS_BUNDLE) {
      const envelope = isObject(bundle.dsseEnvelope) ? bundle.dsseEnvelope : undefined
      const payload = str(envelope?.payload)
      linkTo(
        name,
        name === PROVENANCE_BUNDLE ? WorkspaceFiles.provenance : WorkspaceFiles.vulnsStatement,
        payload === undefined ? undefined : sha256Hex(Buffer.from(payload, 'base64')),
        'the statement its DSSE envelope signs',
      )
    } else if (name.startsWith(`${WorkspaceFiles.artifactsDir}/`)) {
      const subject = name.slice(0, -'.sigstore.json'.length)
      const ms = isObject(bundle.messageSignature) ? bundle.messageSignature : undefined
      const md = ms && isObject(ms.messageDigest) ? ms.messageDigest : undefined
      const digest =
        md?.algorithm === 'SHA2_256' && typeof md.digest === 'string'
          ? Buffer.from(md.digest, 'base64').toString('hex')
          : undefined
      linkTo(name, subject, digest, 'the message digest it signs')
    }
  }
  return problems.sort((a, b) => compareCodePoint(a.file, b.file) || compareCodePoint(a.message, b.message))
}
