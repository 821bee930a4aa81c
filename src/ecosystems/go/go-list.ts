/**
 * Edge: the module graph as the go command computes it (`sbom --go-list`): `go list -m -json all` (the
 * selected version of every module in the graph) and `go mod graph` (every requirement edge), run in
 * the project offline and without side effects: GOPROXY=off (the module cache only), GOFLAGS=-mod=readonly
 * (never rewrite go.mod or go.sum: a go.mod that needs updating is an error, as it should be),
 * GOTOOLCHAIN=local (never fetch another Go), GOWORK=off, GOENV=off (no user go env file). The `go` is
 * the one on the step's PATH. Its output is the go command's, read strictly; a go that cannot be run or
 * that fails is GO_LIST_UNAVAILABLE / GO_LIST_FAILED (exit 3: the exact graph could not be read).
 */
import { execFile } from 'node:child_process'
import { IncompleteError } from '../../errors.ts'

export interface GoListModule {
  path: string
  version: string | undefined
  main: boolean
  indirect: boolean
  replace: { path: string; version: string | undefined } | undefined
}

export interface GoListGraph {
  modules: GoListModule[]
  /** `go mod graph`'s lines: [from, to], each `path` (the main module) or `path@version` */
  edges: Array<[string, string]>
}

/** Splits a stream of JSON values written one after another (`go list -json`'s output). */
export function splitJsonStream(text: string): unknown[] {
  const out: unknown[] = []
  let depth = 0
  let start = -1
  let inString = false
  let escaped = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (inString) {
      if (escaped) escaped = false
      else if (c === '\\') escaped = true
      else if (c === '"') inString = false
      continue
    }
    if (c === '"') inString = true
    else if (c === '{') {
      if (depth === 0) start = i
      depth++
    } else if (c === '}') {
      depth--
      if (depth === 0) out.push(JSON.parse(text.slice(start, i + 1)))
      if (depth < 0) throw new Error('unbalanced JSON stream')
    } else if (depth === 0 && !/\s/.test(c)) throw new Error(`unexpected "${c}" between JSON values`)
  }
  if (depth !== 0 || inString) throw new Error('truncated JSON stream')
  return out
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what} is not a string`)
  return v
}

/** Pure: `go list -m -json all`'s output → modules (strict: a wrong shape is an error). */
export function parseGoListModules(text: string): GoListModule[] {
  return splitJsonStream(text).map((raw, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new Error(`module ${i + 1} is not an object`)
    const m = raw as Record<string, unknown>
    const r = m.Replace as Record<string, unknown> | undefined
    if (m.Error !== undefined) throw new Error(`${String(m.Path)}: ${JSON.stringify(m.Error)}`)
    return {
      path: str(m.Path, `module ${i + 1} Path`),
      version: m.Version === undefined ? undefined : str(m.Version, `${String(m.Path)} Version`),
      main: m.Main === true,
      indirect: m.Indirect === true,
      replace:
        r === undefined || r === null
          ? undefined
          : {
              path: str(r.Path, `${String(m.Path)} Replace.Path`),
              version:
                r.Version === undefined ? undefined : str(r.Version, `${String(m.Path)} Replace.Version`),
            },
    }
  })
}

/** Pure: `go mod graph`'s output → edges. */
export function parseGoModGraph(text: string): Array<[string, string]> {
  const edges: Array<[string, string]> = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const f = line.trim().split(/\s+/)
    if (f.length !== 2) throw new Error(`go mod graph: malformed line "${line.slice(0, 200)}"`)
    edges.push([f[0]!, f[1]!])
  }
  return edges
}

function run(
  args: string[],
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'go',
      args,
      {
        cwd,
        env: {
          ...env,
          GOPROXY: 'off',
          GOFLAGS: '-mod=readonly',
          GOTOOLCHAIN: 'local',
          GOWORK: 'off',
          GOENV: 'off',
          GOSUMDB: 'off',
          LC_ALL: 'C',
        },
        timeout: 120_000,
        maxBuffer: 256 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout)
        const errno = (error as NodeJS.ErrnoException).code
        if (errno === 'ENOENT')
          return reject(
            new IncompleteError(
              'GO_LIST_UNAVAILABLE',
              '--go-list: no go command on PATH (install Go, or leave out --go-list to read go.mod and the module cache)',
            ),
          )
        const first = String(stderr).trim().split('\n').slice(0, 3).join('; ').slice(0, 500)
        reject(
          new IncompleteError(
            'GO_LIST_FAILED',
            `--go-list: go ${args.join(' ')} failed offline: ${first || error.message}`,
            { file: 'go.mod' },
          ),
        )
      },
    )
  })
}

/** Edge: runs the go command in `projectDir` (see the file's comment). */
export async function readGoListGraph(
  projectDir: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<GoListGraph> {
  const list = await run(['list', '-m', '-json', 'all'], projectDir, env)
  const graph = await run(['mod', 'graph'], projectDir, env)
  try {
    return { modules: parseGoListModules(list), edges: parseGoModGraph(graph) }
  } catch (e) {
    throw new IncompleteError(
      'GO_LIST_FAILED',
      `--go-list: unexpected go command output: ${(e as Error).message}`,
      {
        file: 'go.mod',
      },
    )
  }
}
