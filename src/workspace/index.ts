/**
 * The workspace (`.detbuild/` by default), the folder through which the steps pass their results: its
 * file names, the typed shape of each JSON file, and one reader and one writer per file. The only door of
 * `src/workspace/`: steps import from here.
 */
export {
  parseBuildManifest,
  parseInTotoStatement,
  parsePolicyResult,
  parseProvenance,
  parseReproReport,
  parseSignatures,
  parseVulnsReport,
  parseVulnsStatement,
  readBuildManifest,
  readPolicyResult,
  readProvenance,
  readReproReport,
  readSignatures,
  readVulnsReport,
  readVulnsStatement,
  signaturesFile,
  WorkspaceSchemaError,
  writeBuildManifest,
  writePolicyResult,
  writeProvenance,
  writeReproReport,
  writeVulnsReport,
  writeVulnsStatement,
} from './documents.ts'
export { WorkspaceFiles } from './files.ts'
export { schemaProblem, toJsonPath } from './schemas.ts'
export type * from './types.ts'
