/** Test helpers for the evidence area: hand-made tar.gz archives (tar's Header), a workspace, the CLI. */
import { gzipSync } from 'node:zlib'
import { Header } from 'tar'
import { main } from '../../src/cli/main.ts'

export interface CraftEntry {
  path: string
  type?: 'File' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'Directory' | 'FIFO'
  data?: Uint8Array
  linkpath?: string
  /** the size the header declares (default: the data's length) */
  size?: number
}

/** A plain tar written header by header, so tests can make archives detbuild itself never would. */
export function craftTar(entries: CraftEntry[]): Buffer {
  const blocks: Buffer[] = []
  for (const e of entries) {
    const data = Buffer.from(e.data ?? new Uint8Array(0))
    const header = new Header({
      path: e.path,
      mode: e.type === 'Directory' ? 0o755 : 0o644,
      uid: 0,
      gid: 0,
      size: e.size ?? (e.type === undefined || e.type === 'File' ? data.length : 0),
      mtime: new Date(1700000000 * 1000),
      type: e.type ?? 'File',
      ...(e.linkpath ? { linkpath: e.linkpath } : {}),
    })
    const block = Buffer.alloc(512)
    if (header.encode(block)) throw new Error(`test archive: ${e.path} needs a pax header`)
    blocks.push(block)
    if (data.length > 0) {
      blocks.push(data)
      const pad = (512 - (data.length % 512)) % 512
      if (pad) blocks.push(Buffer.alloc(pad))
    }
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

export const craftTarGz = (entries: CraftEntry[]): Buffer => gzipSync(craftTar(entries))

/** Members as CraftEntries, in a given order, for re-packing a modified copy of a real archive. */
export function toEntries(members: ReadonlyMap<string, Uint8Array>): CraftEntry[] {
  return [...members].map(([path, data]) => ({ path, data }))
}

export interface CliRun {
  code: number
  stdout: string
  stderr: string
  json: () => unknown
}

/** Runs the CLI in-process with a fixed environment. */
export async function runCli(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    cwd,
    color: false,
    stdout: (t) => {
      stdout += t
    },
    stderr: (t) => {
      stderr += t
    },
  })
  return { code, stdout, stderr, json: () => JSON.parse(stdout) }
}
