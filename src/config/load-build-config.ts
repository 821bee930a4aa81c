/** Edge: finds and reads the build configuration and the JSON Schema that validates it. */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { InputError, InternalError } from '../errors.ts'
import { exists, readTextFile, toPosixRelative } from '../util/fs.ts'
import { describeJsonType, parseJson, parseYamlCapped } from '../util/json-parse.ts'
import { type BuildConfig, resolveBuildConfig, type SchemaIssue } from './build-config.ts'

/** Config file names, in lookup order. */
export const CONFIG_FILES = ['detbuild.config.json', 'detbuild.config.yaml', 'detbuild.config.yml'] as const

/** The shipped schema: `schema/` sits two levels above both `src/config/` and `dist/config/`. */
export const CONFIG_SCHEMA_URL = new URL('../../schema/config.schema.json', import.meta.url)

let validator: ((doc: unknown) => readonly SchemaIssue[]) | undefined

export async function loadConfigValidator(): Promise<(doc: unknown) => readonly SchemaIssue[]> {
  if (validator) return validator
  const schema = JSON.parse(await readFile(CONFIG_SCHEMA_URL, 'utf8')) as Record<string, unknown>
  // loaded on first use: a command that reads no config never loads the schema validator
  // `.default` (module.exports), never a named export: the bundled CLI's lazy chunk of a CommonJS package
  // has only a default export (test/cli/bundle.test.ts checks every such import)
  const { Ajv } = (await import('ajv')).default
  const ajv = new Ajv({ allErrors: true, strict: true })
  const check = ajv.compile(schema)
  validator = (doc) => (check(doc) ? [] : ((check.errors ?? []) as SchemaIssue[]))
  return validator
}

export interface LoadedConfig {
  config: BuildConfig
  /** config path relative to the project root (POSIX) */
  file: string
  /** sha256 of the config file's bytes */
  sha256: string
}

/** A config file as read from disk: once per invocation (see context.ts), validated by each reader. */
export interface ConfigFile {
  /** config path relative to the project root (POSIX) */
  readonly file: string
  /** sha256 of the file's bytes */
  readonly sha256: string
  /** the parsed document (JSON or YAML), not yet validated */
  readonly document: unknown
}

/**
 * Finds the config in `cwd` (or reads `explicit`) and parses JSON or YAML; null when there is none
 * (an explicit file that is missing is CONFIG_MISSING).
 */
export async function readConfigFile(cwd: string, explicit?: string): Promise<ConfigFile | null> {
  let abs: string | undefined
  if (explicit) abs = path.resolve(cwd, explicit)
  else {
    for (const name of CONFIG_FILES) {
      if (await exists(path.join(cwd, name))) {
        abs = path.join(cwd, name)
        break
      }
    }
  }
  if (!abs) return null
  const display = toPosixRelative(cwd, abs)
  const text = await readTextFile(abs, 'CONFIG_MISSING', display, 'config')
  // the YAML library is loaded only for a YAML config: every command starts without it
  const yaml = isYamlName(display) ? (await import('../util/yaml-parse.ts')).parseYamlStrict : undefined
  // node:crypto (and ssri) load only when there is a config to hash: `--version` and `--help` start without
  const { sha256Hex } = await import('../util/digest.ts')
  return Object.freeze({
    file: display,
    sha256: sha256Hex(text),
    document: parseConfigText(text, display, yaml),
  })
}

/** Validates a config file read by {@link readConfigFile}: none is CONFIG_MISSING. */
export async function toLoadedConfig(file: ConfigFile | null, cwd: string): Promise<LoadedConfig> {
  if (!file)
    throw new InputError(
      'CONFIG_MISSING',
      `no ${CONFIG_FILES.join(' / ')} in ${cwd} (run "detbuild init" to write one)`,
    )
  const config = resolveBuildConfig(file.document, file.file, await loadConfigValidator())
  return { config, file: file.file, sha256: file.sha256 }
}

/** Finds the config in `cwd` (or reads `explicit`), parses JSON or YAML and validates it. */
export async function loadBuildConfig(cwd: string, explicit?: string): Promise<LoadedConfig> {
  return toLoadedConfig(await readConfigFile(cwd, explicit), cwd)
}

/** A config document is a mapping of settings: an array or a scalar is bad input naming the file. */
export function assertConfigObject(raw: unknown, display: string): asserts raw is Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new InputError(
      'CONFIG_INVALID',
      `the configuration must be an object, not ${describeJsonType(raw)}`,
      { file: display, details: { key: '' } },
    )
}

const isYamlName = (display: string): boolean => /\.ya?ml$/i.test(display)

/**
 * Parses a config document by extension: JSON, or YAML for .yaml/.yml (aliases and depth capped) with
 * `parseYaml` (util/yaml-parse.ts's parseYamlStrict, which the caller loads when it reads a YAML file).
 */
export function parseConfigText(
  text: string,
  display: string,
  parseYaml?: (text: string) => unknown,
): unknown {
  if (isYamlName(display)) {
    if (!parseYaml)
      throw new InternalError('INTERNAL_ERROR', `${display}: a YAML config was read without the YAML parser`)
    try {
      return parseYamlCapped(text, display, parseYaml, 'CONFIG_INVALID')
    } catch (e) {
      if (e instanceof InputError) throw e
      const err = e as { linePos?: Array<{ line: number; col: number }>; message?: string }
      const pos = err.linePos?.[0]
      const where = pos ? ` at line ${pos.line}, column ${pos.col}` : ''
      const reason = String(err.message ?? e).split('\n')[0]
      throw new InputError('CONFIG_INVALID', `invalid YAML${where}: ${reason}`, {
        file: display,
        cause: e,
      })
    }
  }
  return parseJson(text, display, 'CONFIG_INVALID')
}
