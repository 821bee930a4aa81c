/**
 * Edge (files): one typed reader and one writer per workspace JSON file. A reader reads the file
 * (size-capped), parses it (depth- and number-checked), checks it against its JSON Schema and returns a
 * typed value; anything else is one line naming the file and the JSON path, exit 2. `parseX(bytes, name)`
 * does the same for bytes that come from elsewhere (an evidence archive's member), so both share one
 * check. A writer writes atomically the bytes detbuild has always written: sorted keys, 2-space indent,
 * a final newline.
 */
import path from 'node:path'
import { type ErrorCode, InputError } from '../errors.ts'
import { stableJson } from '../util/canonical-json.ts'
import { type AtomicFile, readBytesFile, writeFileAtomic } from '../util/fs.ts'
import { parseJson } from '../util/json-parse.ts'
import { WorkspaceFiles } from './files.ts'
import { type SchemaKind, schemaProblem } from './schemas.ts'
import type {
  BuildManifest,
  InTotoStatement,
  PolicyResultDocument,
  ProvenanceStatement,
  ReproReportDocument,
  SignaturesDocument,
  VulnsDocument,
} from './types.ts'

/**
 * A workspace file that is JSON but not what its schema says (exit 2, the file's code). A reader that
 * collects every problem before it fails (`bundle`) tells it from unreadable bytes by this class.
 */
export class WorkspaceSchemaError extends InputError {}

/** How a reader names what it reads, when the caller knows better than the defaults. */
export interface WorkspaceReadOptions {
  /**
   * The error code for a file that is unreadable, not JSON or not valid (default: the file's own
   * `WORKSPACE_*_INVALID` code); a step that documented its own code for the file passes it here.
   */
  code?: ErrorCode
  /** The name to show in an error (default: the workspace file name, e.g. `build.json`). */
  display?: string
}

interface DocumentSpec {
  /** the file name in the workspace */
  file: string
  schema: SchemaKind
  /** the stable error code for this file */
  code: ErrorCode
}

/** The workspace JSON files, their schemas and their error codes. */
export const WorkspaceDocuments = {
  buildManifest: { file: WorkspaceFiles.buildManifest, schema: 'build', code: 'WORKSPACE_BUILD_INVALID' },
  provenance: {
    file: WorkspaceFiles.provenance,
    schema: 'provenance',
    code: 'WORKSPACE_PROVENANCE_INVALID',
  },
  reproReport: {
    file: WorkspaceFiles.reproReport,
    schema: 'repro-report',
    code: 'WORKSPACE_REPRO_REPORT_INVALID',
  },
  vulns: { file: WorkspaceFiles.vulns, schema: 'vulns', code: 'WORKSPACE_VULNS_INVALID' },
  vulnsStatement: {
    file: WorkspaceFiles.vulnsStatement,
    schema: 'in-toto-statement',
    code: 'WORKSPACE_VULNS_STATEMENT_INVALID',
  },
  policy: { file: WorkspaceFiles.policy, schema: 'policy-result', code: 'WORKSPACE_POLICY_RESULT_INVALID' },
  signatures: {
    file: WorkspaceFiles.signatures,
    schema: 'signatures',
    code: 'WORKSPACE_SIGNATURES_INVALID',
  },
} as const satisfies Record<string, DocumentSpec>

/** Pure apart from the schema: JSON text → a value its schema accepts, or an InputError (exit 2). */
function parseDocument<T>(spec: DocumentSpec, bytes: Uint8Array, name: string, code: ErrorCode): T {
  const value = parseJson(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'),
    name,
    code,
  )
  const problem = schemaProblem(spec.schema, value)
  if (problem)
    throw new WorkspaceSchemaError(
      code,
      `${problem.path} ${problem.message} (schema/${spec.schema}.schema.json)`,
      {
        file: name,
        details: { path: problem.path, schema: `schema/${spec.schema}.schema.json` },
      },
    )
  // the schema has just accepted it, and T is written to match the schema
  return value as T
}

async function readDocument<T>(spec: DocumentSpec, dir: string, o: WorkspaceReadOptions): Promise<T> {
  const code = o.code ?? spec.code
  const display = o.display ?? spec.file
  const bytes = await readBytesFile(path.join(dir, spec.file), code, display, 'data')
  return parseDocument<T>(spec, bytes, display, code)
}

/** The set entry for writing one workspace file with others (`writeFilesAtomic`). */
function fileOf(spec: DocumentSpec, dir: string, value: unknown): AtomicFile & { data: string } {
  return { file: path.join(dir, spec.file), data: stableJson(value) }
}

async function writeDocument(spec: DocumentSpec, dir: string, value: unknown): Promise<void> {
  const { file, data } = fileOf(spec, dir, value)
  await writeFileAtomic(file, data)
}

const D = WorkspaceDocuments

/** Reads `<dir>/build.json`: typed, schema-checked (WORKSPACE_BUILD_INVALID, exit 2). */
export function readBuildManifest(dir: string, o: WorkspaceReadOptions = {}): Promise<BuildManifest> {
  return readDocument(D.buildManifest, dir, o)
}
/** Parses build.json bytes (e.g. an evidence member) with the same checks as readBuildManifest. */
export function parseBuildManifest(
  bytes: Uint8Array,
  name: string = D.buildManifest.file,
  code?: ErrorCode,
): BuildManifest {
  return parseDocument<BuildManifest>(D.buildManifest, bytes, name, code ?? D.buildManifest.code)
}
/** Writes `<dir>/build.json` atomically. */
export function writeBuildManifest(dir: string, value: BuildManifest): Promise<void> {
  return writeDocument(D.buildManifest, dir, value)
}

/** Reads `<dir>/provenance.intoto.json` (WORKSPACE_PROVENANCE_INVALID, exit 2). */
export function readProvenance(dir: string, o: WorkspaceReadOptions = {}): Promise<ProvenanceStatement> {
  return readDocument(D.provenance, dir, o)
}
/** Parses provenance bytes with the same checks as readProvenance. */
export function parseProvenance(
  bytes: Uint8Array,
  name: string = D.provenance.file,
  code?: ErrorCode,
): ProvenanceStatement {
  return parseDocument<ProvenanceStatement>(D.provenance, bytes, name, code ?? D.provenance.code)
}
/** Writes `<dir>/provenance.intoto.json` atomically. */
export function writeProvenance(dir: string, value: ProvenanceStatement): Promise<void> {
  return writeDocument(D.provenance, dir, value)
}

/** Reads `<dir>/repro-report.json` (WORKSPACE_REPRO_REPORT_INVALID, exit 2). */
export function readReproReport(dir: string, o: WorkspaceReadOptions = {}): Promise<ReproReportDocument> {
  return readDocument(D.reproReport, dir, o)
}
/** Parses repro-report bytes with the same checks as readReproReport. */
export function parseReproReport(
  bytes: Uint8Array,
  name: string = D.reproReport.file,
  code?: ErrorCode,
): ReproReportDocument {
  return parseDocument<ReproReportDocument>(D.reproReport, bytes, name, code ?? D.reproReport.code)
}
/** Writes `<dir>/repro-report.json` atomically. */
export function writeReproReport(dir: string, value: ReproReportDocument): Promise<void> {
  return writeDocument(D.reproReport, dir, value)
}

/** Reads `<dir>/vulns.json` (WORKSPACE_VULNS_INVALID, exit 2). */
export function readVulnsReport(dir: string, o: WorkspaceReadOptions = {}): Promise<VulnsDocument> {
  return readDocument(D.vulns, dir, o)
}
/** Parses vulns.json bytes with the same checks as readVulnsReport. */
export function parseVulnsReport(
  bytes: Uint8Array,
  name: string = D.vulns.file,
  code?: ErrorCode,
): VulnsDocument {
  return parseDocument<VulnsDocument>(D.vulns, bytes, name, code ?? D.vulns.code)
}
/** Writes `<dir>/vulns.json` atomically. */
export function writeVulnsReport(dir: string, value: VulnsDocument): Promise<void> {
  return writeDocument(D.vulns, dir, value)
}

/** Reads `<dir>/vulns.intoto.json` (WORKSPACE_VULNS_STATEMENT_INVALID, exit 2). */
export function readVulnsStatement(dir: string, o: WorkspaceReadOptions = {}): Promise<InTotoStatement> {
  return readDocument(D.vulnsStatement, dir, o)
}
/** Parses vulns.intoto.json bytes with the same checks as readVulnsStatement. */
export function parseVulnsStatement(
  bytes: Uint8Array,
  name: string = D.vulnsStatement.file,
  code?: ErrorCode,
): InTotoStatement {
  return parseDocument<InTotoStatement>(D.vulnsStatement, bytes, name, code ?? D.vulnsStatement.code)
}
/**
 * Parses any in-toto Statement v1 (schema/in-toto-statement.schema.json), e.g. a provenance file a step
 * signs without needing its predicate: `code` is the reading step's.
 */
export function parseInTotoStatement(bytes: Uint8Array, name: string, code: ErrorCode): InTotoStatement {
  return parseDocument<InTotoStatement>(D.vulnsStatement, bytes, name, code)
}
/** Writes `<dir>/vulns.intoto.json` atomically. */
export function writeVulnsStatement(dir: string, value: InTotoStatement): Promise<void> {
  return writeDocument(D.vulnsStatement, dir, value)
}

/** Reads `<dir>/policy.json` (WORKSPACE_POLICY_RESULT_INVALID, exit 2). */
export function readPolicyResult(dir: string, o: WorkspaceReadOptions = {}): Promise<PolicyResultDocument> {
  return readDocument(D.policy, dir, o)
}
/** Parses policy.json bytes with the same checks as readPolicyResult. */
export function parsePolicyResult(
  bytes: Uint8Array,
  name: string = D.policy.file,
  code?: ErrorCode,
): PolicyResultDocument {
  return parseDocument<PolicyResultDocument>(D.policy, bytes, name, code ?? D.policy.code)
}
/** Writes `<dir>/policy.json` atomically. */
export function writePolicyResult(dir: string, value: PolicyResultDocument): Promise<void> {
  return writeDocument(D.policy, dir, value)
}

/** Reads `<dir>/signatures.json` (WORKSPACE_SIGNATURES_INVALID, exit 2). */
export function readSignatures(dir: string, o: WorkspaceReadOptions = {}): Promise<SignaturesDocument> {
  return readDocument(D.signatures, dir, o)
}
/** Parses signatures.json bytes with the same checks as readSignatures. */
export function parseSignatures(
  bytes: Uint8Array,
  name: string = D.signatures.file,
  code?: ErrorCode,
): SignaturesDocument {
  return parseDocument<SignaturesDocument>(D.signatures, bytes, name, code ?? D.signatures.code)
}
/** The set entry for `<dir>/signatures.json`, for a writer that writes it with its bundles as one set. */
export function signaturesFile(dir: string, value: SignaturesDocument): AtomicFile & { data: string } {
  return fileOf(D.signatures, dir, value)
}
