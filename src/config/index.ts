/** The config folder's door: the resolved context, the build config and the host settings a build reads. */
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
  resolveSourceDate,
  SOURCE_DATE_SHOWN,
  type SourceDate,
  type SourceDateFrom,
  scrubHostEnvironment,
} from './context.ts'
export {
  CONFIG_FILES,
  type ConfigFile,
  type LoadedConfig,
  loadBuildConfig,
  readConfigFile,
  toLoadedConfig,
} from './load-build-config.ts'
