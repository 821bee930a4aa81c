/**
 * The door of `config/`: the resolved context (source date, cache root, config file read once, the
 * environment the steps may see, the clock), the project's detbuild.config file (found, parsed,
 * schema-checked, resolved) and the build host's settings. Other folders import only this file; only
 * `config/` reads `process.env`.
 */
export {
  type BuildConfig,
  type ClockMode,
  describeIssue,
  type ToolPin,
  toConfigRecord,
} from './build-config.ts'
export { type RoomChoice, resolveBuildHostSettings } from './build-env.ts'
export {
  allowEnv,
  type Context,
  type ContextInput,
  DEFAULT_SOURCE_DATE_EPOCH,
  type HostEnv,
  hostEnvironment,
  parseSourceDateEpoch,
  resolveCacheRoot,
  resolveContext,
  resolveRepositoryPath,
  resolveSourceDate,
  SOURCE_DATE_SHOWN,
  type SourceDate,
  scrubHostEnvironment,
} from './context.ts'
export {
  assertConfigObject,
  CONFIG_FILES,
  type ConfigFile,
  loadConfigValidator,
  toLoadedConfig,
} from './load-build-config.ts'
