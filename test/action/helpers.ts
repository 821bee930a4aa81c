/**
 * A simulated GitHub Actions runner: the bundled action copied alone (no node_modules) into a temporary
 * "action checkout", INPUT_* variables, temporary GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, and a
 * loopback OIDC token endpoint standing in for ACTIONS_ID_TOKEN_REQUEST_URL.
 */
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { inputVariable } from '../../src/action/inputs.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
/** DETBUILD_TSC, and the typescript package mounted read-only into the build room at the same path. */
export const TSC_ENV: Readonly<Record<string, string>> = {
  DETBUILD_TSC: TSC,
  DETBUILD_ROOM_MOUNTS: path.dirname(path.dirname(TSC)),
}

/** What GitHub downloads for `uses: owner/detbuild@sha`: the repository, without node_modules. */
export function makeActionCheckout(base: string): string {
  const dir = path.join(base, 'action')
  mkdirSync(path.join(dir, 'dist'), { recursive: true })
  cpSync(path.join(ROOT, 'dist', 'action.js'), path.join(dir, 'dist', 'action.js'))
  for (const f of ['action.yml', 'package.json', 'schema', 'policies'])
    cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true })
  return dir
}

export function tempBase(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'detbuild-action-'))
}

/** A repository checkout holding a copy of a fixture project (without any workspace it may carry). */
export function makeRepo(base: string, fixture: string, sub = '.'): string {
  const repo = path.join(base, 'repo')
  cpSync(path.join(ROOT, 'fixtures', fixture), path.join(repo, sub), {
    recursive: true,
    filter: (src) => !src.split(path.sep).includes('.detbuild'),
  })
  return repo
}

export interface ActionRun {
  code: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
}

/** Parses GITHUB_OUTPUT's `name<<DELIMITER` blocks (and plain `name=value` lines). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const block = /^([^=<]+)<<(.+)$/.exec(line)
    if (block) {
      const [, name, delimiter] = block
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!)
      out[name!] = value.join('\n')
    } else if (line.includes('=')) out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
  }
  return out
}

/** Runs `node <action>/dist/action.js` as the runner would. */
export async function runBundledAction(
  actionDir: string,
  repo: string,
  inputs: Record<string, string>,
  extraEnv: Record<string, string> = {},
): Promise<ActionRun> {
  const runnerTemp = mkdtempSync(path.join(path.dirname(repo), 'runner-temp-'))
  const outputFile = path.join(runnerTemp, 'github_output')
  const summaryFile = path.join(runnerTemp, 'step_summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: repo,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: runnerTemp,
    ...extraEnv,
  }
  for (const [name, value] of Object.entries(inputs)) env[inputVariable(name)] = value
  const child = spawn(process.execPath, [path.join(actionDir, 'dist', 'action.js')], {
    cwd: repo,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8')
  })
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8')
  })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return {
    code,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
  }
}

export interface OidcEndpoint {
  url: string
  requestToken: string
  requests: Array<{ audience: string | null; authorization: string | undefined }>
  close(): Promise<void>
}

/** GitHub's OIDC token endpoint: `GET <url>&audience=sigstore` with the request token → `{ value }`. */
export async function startOidcEndpoint(idToken: string): Promise<OidcEndpoint> {
  const requestToken = 'runner-request-token'
  const requests: OidcEndpoint['requests'] = []
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    requests.push({ audience: url.searchParams.get('audience'), authorization: req.headers.authorization })
    if (req.headers.authorization !== `Bearer ${requestToken}`) {
      res.writeHead(401).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: idToken }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/_apis/token?api-version=2.0`,
    requestToken,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((e) => (e ? reject(e) : resolve()))
      }),
  }
}
