/**
 * The shapes of the workspace files, written by hand to match their JSON Schemas in schema/: a property
 * the schema requires is required here, one it only describes is optional. A value a reader returns has
 * passed its schema, so these types hold for any file, not only for the ones detbuild wrote.
 */

/** A SHA-256 (or other) digest of a file, lowercase hex. */
export interface FileDigest {
  file: string
  sha256: string
}

/** One artifact of `build.json` `outputs` (schema/build.schema.json). */
export interface BuildOutput {
  /** `artifacts/<name>`, relative to the workspace */
  path: string
  size: number
  sha256: string
  sha512: string
  integrity: string
  /** the archive normalizer applied, or null */
  normalized?: 'tar' | 'tgz' | 'zip' | null
}

/** How the install and build commands were isolated (see README "What a build does"). */
export interface BuildIsolation {
  /** the config's `network` */
  requested: 'deny' | 'allow'
  /** none: only loopback; allowed: the host's network (as asked); best-effort: asked none, not held */
  network: 'none' | 'best-effort' | 'allowed'
  /**
   * bwrap or unshare: the sealed build room; unshare-net: only a network namespace (the room could not
   * be made); none: the commands ran on the host
   */
  mechanism: 'bwrap' | 'unshare' | 'unshare-net' | 'none'
  /** the filesystem was sealed: fixed layout, read-only system and toolchain, nothing else of the host */
  sealed: boolean
  /** the commands had their own PID namespace (and a fresh /proc) */
  pidNamespace: boolean
  /** last names of the extra read-only folders (DETBUILD_ROOM_MOUNTS) the room had */
  extraMounts: string[]
  /** why the isolation is weaker than a sealed room with the network asked for, or null */
  note: string | null
}

/** The toolchain a build ran with. */
export interface BuildToolchain {
  node: { version: string; pinned: boolean; integrity: string | null; sha256: string; package: string | null }
  npm: { version: string; pinned: boolean; integrity: string | null; package: string | null }
  /** a Go build's toolchain (config `toolchain.go`); absent for other builds */
  go?: {
    version: string
    pinned: boolean
    /** `golang.org/toolchain@v0.0.1-go<version>.<goos>-<goarch>` when pinned */
    module: string | null
    /** the toolchain zip's Go dirhash (`h1:`), as pinned in detbuild.lock */
    h1: string | null
    /** sha256 of the toolchain's bin/go */
    sha256: string
    /**
     * the checksum database that confirmed the toolchain zip fetched in this run (`sum.golang.org`),
     * `off` (GOSUMDB=off), `cached` (nothing fetched: the verified cache and detbuild.lock's pin), or
     * null (a system go); builds before this version wrote `not-checked`
     */
    checksumDatabase: string | null
  }
}

/**
 * `build.json` (schema/build.schema.json): the record of a build, the contract the later steps read.
 * The properties the schema does not require are optional: a hand-made build.json may leave them out.
 */
export interface BuildManifest {
  schemaVersion: 1
  detbuild?: { version: string }
  source?: {
    kind: 'git' | 'files'
    repo?: string | null
    commit?: string | null
    dirty?: boolean
    treeSha256: string
    files?: number
  }
  sourceDateEpoch: number
  sourceDateEpochFrom?: 'env' | 'commit' | 'default'
  config?: FileDigest
  lockfile?: FileDigest | null
  /** a Go build's go.sum (null: the module has no go.sum); absent for other builds */
  goSum?: FileDigest | null
  /** a vendored Go build: vendor/modules.txt (the build compiled vendor/ with -mod=vendor) */
  goVendor?: FileDigest
  toolchain?: BuildToolchain
  commands?: { install: string[]; build: string[] }
  env?: string[]
  isolation?: BuildIsolation
  reproducibility: {
    checked: boolean
    reproducible: boolean | null
    report: 'repro-report.json' | null
  }
  /** how re-packed archives were compressed (absent before detbuild recorded it: level 9, zlib unknown) */
  archives?: ArchiveCompression
  outputs: BuildOutput[]
}

/** build.json's `archives`: re-packed .tgz/.zip bytes depend on the deflate level and on zlib's version. */
export interface ArchiveCompression {
  gzipLevel: number
  zipDeflateLevel: number
  /** `process.versions.zlib` of the detbuild that re-packed them */
  zlib: string
}

/** One subject of an in-toto statement. */
export interface StatementSubject {
  name: string
  digest: Record<string, string>
}

/** An in-toto Statement v1 (schema/in-toto-statement.schema.json), e.g. `vulns.intoto.json`. */
export interface InTotoStatement {
  _type: 'https://in-toto.io/Statement/v1'
  subject: StatementSubject[]
  predicateType: string
  predicate: Record<string, unknown>
}

/** `provenance.intoto.json` (schema/provenance.schema.json): in-toto Statement v1 + SLSA Provenance v1. */
export interface ProvenanceStatement {
  _type: 'https://in-toto.io/Statement/v1'
  subject: Array<{ name: string; digest: { sha256: string; sha512?: string } & Record<string, string> }>
  predicateType: 'https://slsa.dev/provenance/v1'
  predicate: {
    buildDefinition: {
      buildType: string
      externalParameters: Record<string, unknown>
      internalParameters?: Record<string, unknown>
      resolvedDependencies?: Array<{
        name?: string
        uri?: string
        digest?: Record<string, string>
        annotations?: Record<string, unknown>
      }>
    }
    runDetails: {
      builder: { id: string } & Record<string, unknown>
      metadata?: Record<string, unknown>
    }
  }
}

/** `repro-report.json` (schema/repro-report.schema.json): the answer of `build --check`. */
export interface ReproReportDocument {
  schemaVersion: 1
  reproducible: boolean
  verdict?: string
  fixed?: Array<{ name: string; value: string; why: string }>
  variations: Array<{ name: string; applied: boolean; first?: string; second?: string; note?: string }>
  outputs: Array<{
    name: string
    status?: 'identical' | 'differs' | 'only-in-first' | 'only-in-second'
    sha256?: { first: string; second: string }
  }>
}

/** The six severities of a scan, worst first. */
export type VulnSeverity = 'critical' | 'high' | 'medium' | 'low' | 'none' | 'unknown'

/** One finding of `vulns.json`: the properties the schema requires, the others as written by scan. */
export interface VulnsFinding {
  id: string
  aliases: string[]
  summary?: string
  purl: string
  bomRef?: string
  name: string
  version: string
  severity: VulnSeverity
  score?: number | null
  severitySource?: string
  ratings?: object[]
  cwes?: string[]
  fixed: string | null
  suppressed: unknown
  /** the line of the package's entry in `location.file` (since the fix-advice change) */
  line?: number | null
  /** the direct dependencies to upgrade (since the fix-advice change) */
  upgrade?: Array<{ name: string; version: string; to: string | null; major: boolean | null }>
  [more: string]: unknown
}

/** `vulns.json` (schema/vulns.schema.json): the result of `detbuild scan`. */
export interface VulnsDocument {
  schemaVersion: 1
  sbom: FileDigest
  source: {
    kind: 'api' | 'offline'
    url?: string
    export?: string
    exportSha256?: string
    lastUpdate?: string | null
  }
  complete: boolean
  unchecked: string[]
  uncheckedReasons?: Record<string, string>
  findings: VulnsFinding[]
  counts: Record<VulnSeverity, number>
  suppressedCount?: number
  excludedDev?: number
  expiredSuppressions?: object[]
  componentsChecked?: number
  /** where findings point, from the repository's top folder */
  location?: { projectPath: string; file: string }
}

/** `policy.json` (schema/policy-result.schema.json): the result of `detbuild policy`. */
export interface PolicyResultDocument {
  schemaVersion: 1
  policy: { name: string; source: string; sha256: string }
  evaluatedAt: string
  verdict: 'pass' | 'warn' | 'fail'
  counts: { pass: number; warn: number; fail: number }
  inputs: { sbom: FileDigest } & Record<string, FileDigest | FileDigest[] | null>
  rules: Array<{
    id: string
    title: string
    status: 'pass' | 'warn' | 'fail'
    summary: string
    evidence: Record<string, unknown>
  }>
  exceptions: object[]
}

/** Who signed a bundle (signatures.json `bundles[].signer`). */
export type SignaturesSigner =
  | { type: 'key'; keyId: string }
  | { type: 'keyless'; identity: string; issuer: string }

/** `signatures.json` (schema/signatures.schema.json): the bundles `detbuild sign` made. */
export interface SignaturesDocument {
  schemaVersion: 1
  bundles: Array<{
    /** the bundle, `<subject>.sigstore.json` */
    file: string
    kind: 'dsse' | 'message'
    subject: string
    sha256: string
    signer: SignaturesSigner
    /** whether the bundle holds a transparency-log entry */
    tlog: boolean
  }>
}
