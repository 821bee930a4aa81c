/**
 * The door of `config/`: the project's detbuild.config file (found, parsed, schema-checked, resolved)
 * and the build host's settings from the environment. Other folders import only this file.
 */
export {
  type BuildConfig,
  type ClockMode,
  describeIssue,
  type NetworkMode,
  type ToolPin,
  toConfigRecord,
} from './build-config.ts'
export { type RoomChoice, resolveBuildHostSettings } from './build-env.ts'
export {
  assertConfigObject,
  CONFIG_FILES,
  loadBuildConfig,
  loadConfigValidator,
  parseConfigText,
} from './load-build-config.ts'
