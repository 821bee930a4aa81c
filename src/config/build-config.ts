/**
 * The build configuration (`detbuild.config.json` / `.yaml`): types, defaults and the pure resolution
 * of a parsed document into a frozen, validated config. Validation errors name the key.
 */

import { InputError } from '../errors.ts'
import { isWithheldEnvName, looksLikeSecretEnvName } from '../util/secret-env.ts'

export type NetworkMode = 'deny' | 'allow'

/** `real`: the commands see the real time; `source-date`: their clock starts at SOURCE_DATE_EPOCH. */
export type ClockMode = 'real' | 'source-date'

/** A toolchain pin: an exact version, or `system` (whatever is on PATH, recorded but not pinned). */
export type ToolPin = { kind: 'system' } | { kind: 'version'; version: string }

export interface BuildConfig {
  /** `go`: a Go release fetched as the golang.org/toolchain module (null: not a Go build) */
  readonly toolchain: { readonly node: ToolPin; readonly npm: ToolPin; readonly go: ToolPin | null }
  readonly install: readonly string[]
  readonly build: readonly string[]
  readonly outputs: readonly string[]
  readonly env: readonly string[]
  /** credential variables passed through on purpose (a private registry's token) */
  readonly secretEnv: readonly string[]
  readonly network: NetworkMode
  readonly scripts: boolean
  readonly clock: ClockMode
  readonly include: readonly string[]
  /** the staged source is a minimal git repository holding the HEAD commit (git-room.ts) */
  readonly git: boolean
}

/** One schema violation, as reported by the validator (JSON Pointer path + keyword). */
export interface SchemaIssue {
  instancePath: string
  keyword: string
  params: Record<string, unknown>
  message?: string
}

export const DEFAULT_INCLUDE: readonly string[] = ['**']
export const DEFAULT_INSTALL = 'npm ci --ignore-scripts'
export const DEFAULT_INSTALL_WITH_SCRIPTS = 'npm ci'

/** `/toolchain/node` → `toolchain.node`; array indexes become `[i]`. */
export function toKeyPath(pointer: string, extra?: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (extra !== undefined) parts.push(extra)
  let out = ''
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`
  return out || '(root)'
}

/** Turns the first schema issue into one line naming the key. */
export function describeIssue(issue: SchemaIssue): { key: string; message: string } {
  const p = issue.params
  switch (issue.keyword) {
    case 'additionalProperties': {
      const key = toKeyPath(issue.instancePath, String(p.additionalProperty))
      return { key, message: `unknown key "${key}"` }
    }
    case 'required': {
      const key = toKeyPath(issue.instancePath, String(p.missingProperty))
      return { key, message: `missing required key "${key}"` }
    }
    case 'enum': {
      const key = toKeyPath(issue.instancePath)
      const allowed = (p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')
      return { key, message: `"${key}" must be one of ${allowed}` }
    }
    case 'pattern':
    case 'minLength': {
      const key = toKeyPath(issue.instancePath)
      const hint =
        key === 'toolchain.go'
          ? 'a Go release like "1.26.10" or "system"'
          : key.startsWith('toolchain.')
            ? 'an exact version like "24.21.0" or "system"'
            : key.startsWith('env') || key.startsWith('secretEnv')
              ? 'an environment variable name'
              : key.startsWith('outputs')
                ? 'a non-empty glob inside the project (no leading "/", no ".." segment)'
                : 'a non-empty string'
      return { key, message: `"${key}" must be ${hint}` }
    }
    case 'oneOf':
    case 'type': {
      const key = toKeyPath(issue.instancePath)
      const top = key.split(/[.[]/)[0]
      if (top === 'install' || top === 'build')
        return { key: top, message: `"${top}" must be a command string or an array of command strings` }
      return { key, message: `"${key}" ${issue.message ?? 'has the wrong type'}` }
    }
    case 'minItems': {
      const key = toKeyPath(issue.instancePath)
      return { key, message: `"${key}" must not be empty` }
    }
    default: {
      const key = toKeyPath(issue.instancePath)
      return { key, message: `"${key}" ${issue.message ?? 'is invalid'}` }
    }
  }
}

/** Orders schema issues so the most specific one is reported (a `oneOf` wrapper loses to nothing else). */
function pickIssue(issues: readonly SchemaIssue[]): SchemaIssue {
  const structural = issues.find((i) => i.keyword === 'additionalProperties' || i.keyword === 'required')
  if (structural) return structural
  const commandIssue = issues.find((i) => /^\/(install|build)(\/|$)/.test(i.instancePath))
  if (commandIssue) return { ...commandIssue, keyword: 'oneOf' }
  return issues[0] as SchemaIssue
}

function toCommands(value: unknown): string[] {
  if (value === undefined) return []
  return (typeof value === 'string' ? [value] : (value as string[])).map((c) => c.trim())
}

function toPin(value: unknown): ToolPin {
  return value === undefined || value === 'system'
    ? { kind: 'system' }
    : { kind: 'version', version: String(value) }
}

/**
 * Validates a parsed config document (`validate` is the JSON Schema check, injected so this stays pure)
 * and applies defaults. Throws InputError CONFIG_INVALID naming the first bad key.
 */
export function resolveBuildConfig(
  raw: unknown,
  file: string,
  validate: (doc: unknown) => readonly SchemaIssue[],
): BuildConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new InputError('CONFIG_INVALID', 'the configuration must be an object', { file })
  const issues = validate(raw)
  if (issues.length > 0) {
    const { key, message } = describeIssue(pickIssue(issues))
    throw new InputError('CONFIG_INVALID', message, { file, details: { key } })
  }
  const doc = raw as Record<string, unknown>
  const toolchain = doc.toolchain as Record<string, unknown>
  const scripts = doc.scripts === true
  // a Go build's modules are prefetched by detbuild: it has no install step unless it names one
  const install =
    doc.install === undefined
      ? toolchain.go !== undefined
        ? []
        : [scripts ? DEFAULT_INSTALL_WITH_SCRIPTS : DEFAULT_INSTALL]
      : toCommands(doc.install)
  const build = toCommands(doc.build)
  if (build.length === 0)
    throw new InputError('CONFIG_INVALID', '"build" must hold at least one command', {
      file,
      details: { key: 'build' },
    })
  const env = [...new Set((doc.env as string[] | undefined) ?? [])]
  const secretEnv = [...new Set((doc.secretEnv as string[] | undefined) ?? [])]
  assertEnvNames(env, secretEnv, file)
  return Object.freeze({
    toolchain: Object.freeze({
      node: toPin(toolchain.node),
      npm: toPin(toolchain.npm),
      go: toolchain.go === undefined ? null : toPin(toolchain.go),
    }),
    install: Object.freeze(install),
    build: Object.freeze(build),
    outputs: Object.freeze([...(doc.outputs as string[])]),
    env: Object.freeze(env),
    secretEnv: Object.freeze(secretEnv),
    network: (doc.network as NetworkMode | undefined) ?? 'deny',
    scripts,
    clock: (doc.clock as ClockMode | undefined) ?? 'real',
    include: Object.freeze([...((doc.include as string[] | undefined) ?? DEFAULT_INCLUDE)]),
    git: doc.git === true,
  })
}

/**
 * Build code is every dependency's scripts: a credential reaches it only when the config says so by
 * name. `env` may not name a credential-looking variable (move it to `secretEnv`), and neither list may
 * name the runner's or detbuild's own credentials (the OIDC token endpoint, `INPUT_*`, the key
 * passphrase). Exit 2, CONFIG_ENV_SECRET, naming the key.
 */
function assertEnvNames(env: readonly string[], secretEnv: readonly string[], file: string): void {
  const refuse = (key: string, name: string, why: string): never => {
    throw new InputError('CONFIG_ENV_SECRET', `"${key}" names ${name}: ${why}`, {
      file,
      details: { key, name },
    })
  }
  const never = "the runner's and detbuild's own credentials never reach a build"
  for (const [i, name] of secretEnv.entries())
    if (isWithheldEnvName(name)) refuse(`secretEnv[${i}]`, name, never)
  for (const [i, name] of env.entries()) {
    if (isWithheldEnvName(name)) refuse(`env[${i}]`, name, never)
    if (looksLikeSecretEnvName(name) && !secretEnv.includes(name))
      refuse(
        `env[${i}]`,
        name,
        'it looks like a credential, and build code (every dependency\'s scripts) could read it; list it under "secretEnv" to pass it on purpose',
      )
  }
}

/** The config as it is recorded (commands as arrays, pins as strings). */
export function toConfigRecord(config: BuildConfig): Record<string, unknown> {
  const pin = (p: ToolPin) => (p.kind === 'system' ? 'system' : p.version)
  return {
    toolchain: {
      node: pin(config.toolchain.node),
      npm: pin(config.toolchain.npm),
      // recorded only for a Go build, so npm configs keep their recorded bytes
      ...(config.toolchain.go ? { go: pin(config.toolchain.go) } : {}),
    },
    install: [...config.install],
    build: [...config.build],
    outputs: [...config.outputs],
    env: [...config.env],
    secretEnv: [...config.secretEnv],
    network: config.network,
    scripts: config.scripts,
    // recorded only when not the default, so configs without it keep their recorded bytes
    ...(config.clock !== 'real' ? { clock: config.clock } : {}),
    include: [...config.include],
    git: config.git,
  }
}
