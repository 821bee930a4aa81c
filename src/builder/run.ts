/** Edge: child processes. Runs build commands in a shell with a fixed umask, optionally without network. */
import { execFile, spawn } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { toBwrapArgs, toUnshareArgv, toUnshareScript } from './room.ts'
import type { RoomCommand } from './room-host.ts'

const exec = promisify(execFile)

/** Finds an executable on a PATH string (like `which`), or null. */
export async function findOnPath(name: string, pathValue: string | undefined): Promise<string | null> {
  for (const dir of (pathValue ?? '').split(':')) {
    if (!dir) continue
    const candidate = path.join(dir, name)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return null
}

/** Whether unprivileged user + network namespaces work here (`unshare -rn true`). */
export async function probeUnshare(pathValue: string | undefined): Promise<boolean> {
  const unshare = await findOnPath('unshare', pathValue)
  if (!unshare) return false
  try {
    await exec(unshare, ['-rn', 'true'], { timeout: 10_000 })
    return true
  } catch {
    return false
  }
}

/** Runs a program and returns its trimmed stdout, or null when it fails. */
export async function captureOutput(
  file: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<string | null> {
  try {
    const { stdout } = await exec(file, args, { env, cwd, timeout: 60_000 })
    return stdout.trim()
  } catch {
    return null
  }
}

export interface RunOptions {
  cwd: string
  env: Record<string, string>
  umask: number
  /** absolute path of `unshare` to run the command with no network, or null (unsealed runs only) */
  unshare: string | null
  /** the sealed build room the command runs in, or null */
  room: RoomCommand | null
  /** absolute path of `faketime` and its offset, to run the command with a shifted clock */
  faketime?: { bin: string; offset: string } | null
  /** absolute path of `taskset` and the CPU list, to run the command on fewer CPUs (--check) */
  taskset?: { bin: string; cpus: string } | null
  /** receives stdout and stderr as they arrive */
  onOutput: (chunk: string) => void
}

/** Runs one shell command; resolves to its exit code (or 128 + signal). */
export function runShell(command: string, options: RunOptions): Promise<number> {
  const script = `umask ${options.umask.toString(8).padStart(3, '0')}\n${command}`
  let argv = ['/bin/sh', '-c', script]
  if (options.faketime) argv = [options.faketime.bin, '-f', options.faketime.offset, ...argv]
  let bwrapArgs: string[] | null = null
  const room = options.room
  if (room?.runner.mechanism === 'bwrap') {
    // the room's options go through a pipe: on bwrap's command line (the room's /proc/1/cmdline) they
    // would show the host's paths to the build
    bwrapArgs = toBwrapArgs(room.layout)
    argv = [room.runner.bin, '--args', '3', '--', ...argv]
  } else if (room?.runner.mechanism === 'unshare')
    argv = toUnshareArgv(
      room.runner.bin,
      room.layout,
      toUnshareScript(room.layout, room.rootMountPoint, argv),
    )
  else if (options.unshare) argv = [options.unshare, '-rn', ...argv]
  if (options.taskset) argv = [options.taskset.bin, '-c', options.taskset.cpus, ...argv]
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd: options.cwd,
      env: options.env,
      stdio: bwrapArgs ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    })
    if (bwrapArgs) {
      const fd3 = child.stdio[3] as NodeJS.WritableStream
      fd3.on('error', () => {})
      fd3.end(`${bwrapArgs.join('\0')}\0`)
    }
    child.stdout?.setEncoding('utf8').on('data', options.onOutput)
    child.stderr?.setEncoding('utf8').on('data', options.onOutput)
    child.on('error', reject)
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)))
  })
}
