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
  ProvenanceStatement,
} from '../workspace/index.ts'

export const BUILD_TYPE = 'https://detbuild.dev/build-types/npm/v1'
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

  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
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
