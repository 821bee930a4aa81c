/**
 * Edge: files. Resolves and reads the policy (shipped or the project's), the schema, and the workspace
 * inputs, turning each into data for the pure evaluator. Paths in results are POSIX, relative to the project.
 */
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ErrorCode } from '../errors.ts'
import { InputError, isDetbuildError } from '../errors.ts'
import { readSbom } from '../sbom-read/index.ts'
import { sha256Hex } from '../util/digest.ts'
import { exists, type InputKind, readBytesFile, toPosixRelative } from '../util/fs.ts'
import { parseJson } from '../util/json-parse.ts'
import { compareCodePoint } from '../util/sort.ts'
import { WorkspaceFiles } from '../workspace/index.ts'
import { isObject, str } from './model.ts'
import { parsePolicy } from './parse-policy.ts'
import type { InputFile, Policy, PolicyInputs, PolicySource } from './types.ts'

/** The package root: `src/policy/` and `dist/policy/` both sit two levels below it. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const POLICIES_DIR = path.join(PACKAGE_ROOT, 'policies')
export const SCHEMA_FILE = path.join(PACKAGE_ROOT, 'schema', 'policy.schema.json')
/** The project's own policy, used when --policy is not given. */
export const PROJECT_POLICY = 'detbuild.policy.yaml'

/** A file's bytes, or undefined when it does not exist; any other failure is an error naming it. */
async function readBytes(
  file: string,
  display: string,
  code: ErrorCode,
  kind: InputKind = 'data',
): Promise<Buffer | undefined> {
  try {
    return await readBytesFile(file, code, display, kind)
  } catch (e) {
    if (isDetbuildError(e) && e.details?.errno === 'ENOENT') return undefined
    throw e
  }
}

let schemaCache: object | undefined

export async function readPolicySchema(): Promise<object> {
  if (!schemaCache) {
    const bytes = await readBytes(SCHEMA_FILE, 'schema/policy.schema.json', 'POLICY_SCHEMA_MISSING')
    if (!bytes) throw new InputError('POLICY_SCHEMA_MISSING', 'the policy schema is missing from the package')
    schemaCache = parseJson(bytes.toString('utf8'), 'schema/policy.schema.json') as object
  }
  return schemaCache
}

/** Names of the shipped policies (`policies/*.yaml`). */
export async function listBuiltinPolicies(): Promise<string[]> {
  try {
    return (await readdir(POLICIES_DIR))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .sort(compareCodePoint)
  } catch {
    return []
  }
}

/**
 * `--policy NAME|FILE`: a bare name (`strict`) is a shipped policy, anything else a file relative to the
 * project. Without it: the project's detbuild.policy.yaml when present, else the shipped `default`.
 */
export async function readPolicy(
  cwd: string,
  spec: string | undefined,
): Promise<{ policy: Policy; source: PolicySource }> {
  let file: string
  let label: string
  let builtinName: string | undefined
  if (spec === undefined) {
    const own = path.join(cwd, PROJECT_POLICY)
    if (await exists(own)) {
      file = own
      label = PROJECT_POLICY
    } else {
      builtinName = 'default'
      file = path.join(POLICIES_DIR, 'default.yaml')
      label = 'builtin:default'
    }
  } else if (
    /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(spec) &&
    (await exists(path.join(POLICIES_DIR, `${spec}.yaml`)))
  ) {
    builtinName = spec
    file = path.join(POLICIES_DIR, `${spec}.yaml`)
    label = `builtin:${spec}`
  } else {
    file = path.resolve(cwd, spec)
    label = toPosixRelative(cwd, file)
  }
  const bytes = await readBytes(file, label, 'POLICY_NOT_FOUND', 'config')
  if (!bytes) {
    const names = await listBuiltinPolicies()
    throw new InputError('POLICY_NOT_FOUND', `policy not found (shipped policies: ${names.join(', ')})`, {
      file: label,
    })
  }
  const policy = parsePolicy(bytes.toString('utf8'), label, await readPolicySchema())
  return {
    policy,
    source: {
      name: policy.name ?? builtinName ?? path.basename(file).replace(/\.(ya?ml|json)$/, ''),
      source: label,
      sha256: sha256Hex(bytes),
    },
  }
}

export interface InputPaths {
  cwd: string
  out: string
  sbom?: string
  vulns?: string
  build?: string
  /** null: not read, as if absent */
  signatures?: string | null
  vex?: string[]
}

async function readJsonInput(
  cwd: string,
  file: string,
  code: ErrorCode,
  required: boolean,
  parse: (text: string, display: string) => unknown = (text, display) => parseJson(text, display, code),
): Promise<{ file: InputFile; data: unknown } | undefined> {
  const display = toPosixRelative(cwd, file)
  const bytes = await readBytes(file, display, code)
  if (!bytes) {
    if (required) throw new InputError(code, 'file not found', { file: display })
    return undefined
  }
  return {
    file: { file: display, sha256: sha256Hex(bytes) },
    data: await parse(bytes.toString('utf8'), display),
  }
}

/** A workspace-relative path that stays inside the workspace, or undefined. */
function safeRelative(p: unknown): string | undefined {
  const s = str(p)
  if (!s || path.isAbsolute(s) || s.includes('\\')) return undefined
  const norm = path.posix.normalize(s)
  return norm.startsWith('../') || norm === '..' ? undefined : norm
}

/** Reads the SBOM (required), the optional step outputs and VEX documents, and hashes the files they name. */
export async function readPolicyInputs(p: InputPaths): Promise<PolicyInputs> {
  const at = (given: string | undefined, name: string) =>
    given ? path.resolve(p.cwd, given) : path.join(p.out, name)
  // CycloneDX or SPDX, detected from the content, in CycloneDX shape (src/sbom-read/index.ts)
  const sbom = await readJsonInput(
    p.cwd,
    at(p.sbom, WorkspaceFiles.sbomJson),
    'POLICY_SBOM_MISSING',
    true,
    async (text, display) =>
      (
        await readSbom(text, display, 'POLICY_SBOM_INVALID', async (xml, version) =>
          (await import('../sbom/index.ts')).validateXml(xml, version),
        )
      ).bom,
  )
  const inputs: PolicyInputs = { sbom: sbom! }
  const vulns = await readJsonInput(
    p.cwd,
    at(p.vulns, WorkspaceFiles.vulns),
    'POLICY_INPUT_INVALID',
    p.vulns !== undefined,
  )
  if (vulns) inputs.vulns = vulns
  const build = await readJsonInput(
    p.cwd,
    at(p.build, WorkspaceFiles.buildManifest),
    'POLICY_INPUT_INVALID',
    p.build !== undefined,
  )
  if (build) inputs.build = build
  const signatures =
    p.signatures === null
      ? undefined
      : await readJsonInput(
          p.cwd,
          at(p.signatures, 'signatures.json'),
          'POLICY_INPUT_INVALID',
          p.signatures !== undefined,
        )
  if (signatures) inputs.signatures = signatures
  const vex: NonNullable<PolicyInputs['vex']> = []
  for (const v of p.vex ?? [])
    vex.push((await readJsonInput(p.cwd, path.resolve(p.cwd, v), 'POLICY_VEX_INVALID', true))!)
  if (vex.length > 0) inputs.vex = vex

  // the files signatures and build outputs talk about, hashed so the core can compare; the bundles and
  // the files they sign are kept too, for the signing rules to verify
  const names = new Set<string>([WorkspaceFiles.provenance])
  const signedNames = new Set<string>()
  if (isObject(signatures?.data) && Array.isArray(signatures.data.bundles))
    for (const b of signatures.data.bundles.filter(isObject))
      for (const n of [safeRelative(b.file), safeRelative(b.subject)])
        if (n) {
          names.add(n)
          signedNames.add(n)
        }
  if (isObject(build?.data) && Array.isArray(build.data.outputs))
    for (const o of build.data.outputs.filter(isObject)) {
      const n = safeRelative(o.path)
      if (n) names.add(n)
    }
  const files: Record<string, string | null> = {}
  const signedFiles = new Map<string, Uint8Array>()
  for (const n of [...names].sort(compareCodePoint)) {
    const bytes = await readBytes(
      path.join(p.out, n),
      toPosixRelative(p.cwd, path.join(p.out, n)),
      'POLICY_INPUT_INVALID',
    )
    files[n] = bytes ? sha256Hex(bytes) : null
    if (bytes && signedNames.has(n)) signedFiles.set(n, bytes)
  }
  inputs.workspaceFiles = files
  if (signedFiles.size > 0) inputs.signedFiles = signedFiles
  return inputs
}
