/**
 * `detbuild upload`: the workspace's SBOM, and a CycloneDX VEX made from the policy's exceptions, sent to
 * a Dependency-Track server through its REST API (docs/upload.md). The door of `src/upload/`.
 */
export { toDtrackEndpoint, toUuid } from './endpoint.ts'
export {
  runUpload,
  toUploadText,
  type UploadOptions,
  type UploadRecord,
  type UploadResult,
} from './upload.ts'
