/**
 * The build record, pure: `build.json` (the contract other steps read) and the in-toto Statement v1 with
 * a SLSA Provenance v1 predicate. Deterministic: no clock, no random ids, no absolute paths.
 */

import { sriToHex } from '../util/digest.ts'
import { compareCodePoint } from '../util/sort.ts'
import { VERSION } from '../version.ts'
import type {
  ArchiveCompression,
  BuildIsolation,
  BuildManifest,
  BuildToolchain,
  ProvenanceStatement,
} from '../workspace/index.ts'
import type { GoModuleRecord } from './go-build.ts'

export const BUILD_TYPE = 'https://detbuild.dev/build-types/npm/v1'
/** The build type of a Go build (`toolchain.go`): the same statement, with the Go toolchain and go.sum's modules. */
export const GO_BUILD_TYPE = 'https://detbuild.dev/build-types/go/v1'
export const BUILDER_ID = 'https://detbuild.dev/builders/local/v1'
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1'
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1'

export interface OutputRecord {
  /** `artifacts/<name>`, relative to the workspace */
  path: string
  size: number
  sha256: string
  sha512: string
  integrity: string
  /** the archive normalizer applied, or null */
  normalized: 'tar' | 'tgz' | 'zip' | null
}

/** How the install and build commands were isolated: build.json's own type (workspace/types.ts). */
export type Isolation = BuildIsolation

export interface BuildFacts {
  source: {
    kind: 'git' | 'files'
    repo: string | null
    commit: string | null
    dirty: boolean
    treeSha256: string
    files: number
  }
  sourceDateEpoch: number
  sourceDateEpochFrom: 'env' | 'commit' | 'default'
  config: { file: string; sha256: string; record: Record<string, unknown> }
  lockfile: { file: string; sha256: string } | null
  toolchain: {
    node: {
      version: string
      pinned: boolean
      integrity: string | null
      sha256: string
      package: string | null
    }
    npm: { version: string; pinned: boolean; integrity: string | null; package: string | null }
    go?: NonNullable<BuildToolchain['go']>
  }
  /** a Go build: go.sum, and every module it names as verified (absent for other builds) */
  go?: {
    goSum: { file: string; sha256: string } | null
    /** vendor/modules.txt when the build compiled vendor/ */
    vendor: { file: string; sha256: string } | null
    modules: GoModuleRecord[]
  }
  commands: { install: string[]; build: string[] }
  env: string[]
  fixedEnv: Record<string, string>
  isolation: Isolation
  reproducibility: BuildManifest['reproducibility']
  archives: ArchiveCompression
  outputs: OutputRecord[]
}

/** `<out>/build.json`. */
export function toBuildManifest(f: BuildFacts): BuildManifest {
  return {
    schemaVersion: 1,
    detbuild: { version: VERSION },
    source: f.source,
    sourceDateEpoch: f.sourceDateEpoch,
    sourceDateEpochFrom: f.sourceDateEpochFrom,
    config: { file: f.config.file, sha256: f.config.sha256 },
    lockfile: f.lockfile,
    ...(f.go ? { goSum: f.go.goSum, ...(f.go.vendor ? { goVendor: f.go.vendor } : {}) } : {}),
    toolchain: f.toolchain,
    commands: f.commands,
    env: [...f.env].sort(compareCodePoint),
    isolation: f.isolation,
    reproducibility: f.reproducibility,
    archives: f.archives,
    outputs: [...f.outputs].sort((a, b) => compareCodePoint(a.path, b.path)),
  }
}

function hexDigestsOf(integrity: string | null): Record<string, string> {
  if (!integrity) return {}
  return Object.fromEntries(sriToHex(integrity))
}

/** RFC 3339 UTC time of an epoch second, e.g. 2023-11-14T22:13:20Z. */
export function toRfc3339(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** `<out>/provenance.intoto.json`: in-toto Statement v1 + SLSA Provenance v1. */
export function toProvenance(f: BuildFacts): ProvenanceStatement {
  const buildType = f.toolchain.go ? GO_BUILD_TYPE : BUILD_TYPE
  const subject = [...f.outputs]
    .sort((a, b) => compareCodePoint(a.path, b.path))
    .map((o) => ({
      name: o.path.replace(/^artifacts\//, ''),
      digest: { sha256: o.sha256, sha512: o.sha512 },
    }))

  const deps: NonNullable<ProvenanceStatement['predicate']['buildDefinition']['resolvedDependencies']> = []
  if (f.source.commit) {
    deps.push({
      name: 'source',
      ...(f.source.repo ? { uri: `git+${f.source.repo}@${f.source.commit}` } : {}),
      digest: { gitCommit: f.source.commit },
      annotations: { dirty: f.source.dirty },
    })
  }
  deps.push({
    name: 'source-tree',
    digest: { sha256: f.source.treeSha256 },
    annotations: { files: f.source.files },
  })
  deps.push({ name: f.config.file, digest: { sha256: f.config.sha256 } })
  if (f.lockfile) deps.push({ name: f.lockfile.file, digest: { sha256: f.lockfile.sha256 } })
  const node = f.toolchain.node
  deps.push({
    name: 'node',
    ...(node.package ? { uri: `pkg:npm/${node.package}` } : {}),
    digest: { ...hexDigestsOf(node.integrity), ...(node.package ? {} : { sha256: node.sha256 }) },
    annotations: { version: node.version, pinned: node.pinned, binarySha256: node.sha256 },
  })
  const npm = f.toolchain.npm
  deps.push({
    name: 'npm',
    uri: `pkg:npm/${npm.package ?? `npm@${npm.version}`}`,
    ...(npm.integrity ? { digest: hexDigestsOf(npm.integrity) } : {}),
    annotations: { version: npm.version, pinned: npm.pinned },
  })

  if (f.toolchain.go) deps.push(...goDependencies(f.toolchain.go, f.go?.modules ?? []))
  if (f.go?.goSum) deps.push({ name: f.go.goSum.file, digest: { sha256: f.go.goSum.sha256 } })
  if (f.go?.vendor) deps.push({ name: f.go.vendor.file, digest: { sha256: f.go.vendor.sha256 } })

  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType,
        externalParameters: {
          config: { path: f.config.file, ...f.config.record },
          source: {
            ...(f.source.repo ? { repository: f.source.repo } : {}),
            ...(f.source.commit ? { commit: f.source.commit } : {}),
          },
          check: f.reproducibility.checked,
        },
        internalParameters: {
          sourceDateEpoch: f.sourceDateEpoch,
          sourceDateEpochFrom: f.sourceDateEpochFrom,
          environment: f.fixedEnv,
          umask: '022',
          isolation: f.isolation,
        },
        resolvedDependencies: deps,
      },
      runDetails: {
        builder: { id: BUILDER_ID, version: { detbuild: VERSION } },
        // startedOn/finishedOn/invocationId are left out on purpose: they would make the statement
        // differ between two builds of the same source.
        metadata: {},
      },
    },
  }
}

/** A Go module's purl (`pkg:golang/<module path>@<version>`, each path segment percent-encoded as the purl spec asks). */
export function goPurl(modulePath: string, version: string): string {
  return `pkg:golang/${modulePath.split('/').map(encodeURIComponent).join('/')}@${encodeURIComponent(version)}`
}

type Dependency = NonNullable<
  ProvenanceStatement['predicate']['buildDefinition']['resolvedDependencies']
>[number]

/**
 * The Go toolchain and every module of go.sum as resolved dependencies. An `h1:` is Go's dirhash (a
 * hash over the file list), not a digest of any file's bytes: it is an annotation, never a `digest`
 * entry; `digest.sha256` is the sha256 of the module zip detbuild verified (or, for the toolchain, of
 * its bin/go binary, named so in the annotations).
 */
function goDependencies(
  go: NonNullable<BuildToolchain['go']>,
  modules: readonly GoModuleRecord[],
): Dependency[] {
  const out: Dependency[] = [
    {
      name: 'go',
      ...(go.module
        ? { uri: goPurl('golang.org/toolchain', go.module.slice(go.module.indexOf('@') + 1)) }
        : {}),
      digest: { sha256: go.sha256 },
      annotations: {
        version: go.version,
        pinned: go.pinned,
        digestOf: 'bin/go',
        ...(go.h1 ? { goDirhash: go.h1 } : {}),
        checksumDatabase: go.checksumDatabase ?? 'not-applicable',
      },
    },
  ]
  for (const m of modules)
    out.push({
      name: m.version ? `${m.path}@${m.version}` : m.path,
      ...(m.version ? { uri: goPurl(m.path, m.version) } : {}),
      ...(m.zipSha256 ? { digest: { sha256: m.zipSha256 } } : {}),
      annotations:
        m.vendoredFilesSha256 !== undefined || m.replacedBy !== undefined
          ? {
              // compiled from vendor/: the digest of its vendored files (go.sum's h1: covers the unpruned module)
              vendored: true,
              ...(m.vendoredFilesSha256 ? { vendoredFilesSha256: m.vendoredFilesSha256 } : {}),
              ...(m.replacedBy ? { replacedBy: m.replacedBy } : {}),
            }
          : {
              ...(m.h1 ? { goDirhash: m.h1 } : {}),
              ...(m.goModH1 ? { goModDirhash: m.goModH1 } : {}),
              // a go.sum line for go.mod alone: the module's requirements were read, its code was not fetched
              ...(m.h1 ? {} : { goModOnly: true }),
            },
    })
  return out
}
