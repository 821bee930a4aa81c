/**
 * Edge: the file system. `<out>/build.log`, streamed while the commands run: everything goes to a
 * temporary file in the same folder as it arrives, which is renamed into place when the build ends —
 * failed or not — so a reader never sees a half-written log and an old log is replaced whole.
 * Commands echo URLs (a registry from an npmrc, a remote) that may carry credentials: text is redacted
 * a whole line at a time, so a secret split across two output chunks is still caught.
 */
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { finished } from 'node:stream/promises'
import { tempNameFor } from '../util/fs.ts'
import { redactSecrets } from '../util/redact.ts'

/** A line longer than this is redacted and written without waiting for its end (bounded memory). */
const MAX_PENDING = 1024 * 1024

export interface BuildLog {
  /** appends text (a command's output as it arrives, or a `# step` line) */
  write(text: string): void
  /** resolves when everything written so far has reached the file (called after each command) */
  flush(): Promise<void>
  /** flushes and renames the log into place; safe to call once, on success and on failure */
  close(): Promise<void>
}

/**
 * Opens a streamed log that lands at `file` when closed. `secrets` are values printed as `***` wherever
 * they appear (the credentials a config passes to the build on purpose, `secretEnv`); values shorter
 * than 4 characters are left, as they would hide ordinary text.
 */
export async function openBuildLog(file: string, secrets: readonly string[] = []): Promise<BuildLog> {
  const hidden = [...new Set(secrets.filter((v) => v.length >= 4))].sort((a, b) => b.length - a.length)
  const dir = path.dirname(file)
  await mkdir(dir, { recursive: true })
  // detbuild's temporary naming, so the next command removes it if this process is killed
  const tmp = tempNameFor(file)
  const stream = createWriteStream(tmp, { mode: 0o644, flags: 'wx' })
  let failure: Error | null = null
  stream.on('error', (e) => {
    failure ??= e
  })
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve())
    stream.once('error', reject)
  })
  let closed = false
  // writes complete in order: the last one's callback means all earlier ones are on disk too
  let last: Promise<void> = Promise.resolve()
  // the unfinished last line of what arrived so far
  let pending = ''
  const emit = (text: string) => {
    if (text === '') return
    let redacted = redactSecrets(text)
    for (const value of hidden) redacted = redacted.replaceAll(value, '***')
    last = new Promise((resolve) => stream.write(redacted, () => resolve()))
  }
  const drain = () => {
    emit(pending)
    pending = ''
  }
  return {
    write(text) {
      if (closed || failure !== null || text === '') return
      pending += text
      const end = Math.max(pending.lastIndexOf('\n'), pending.lastIndexOf('\r'))
      if (end >= 0) {
        emit(pending.slice(0, end + 1))
        pending = pending.slice(end + 1)
      }
      if (pending.length > MAX_PENDING) drain()
    },
    flush() {
      // a command ended: its last line is complete even without a line break
      if (!closed && failure === null) drain()
      return last
    },
    async close() {
      if (closed) return
      if (failure === null) drain()
      closed = true
      stream.end()
      await finished(stream).catch((e: Error) => {
        failure ??= e
      })
      try {
        if (failure) throw failure
        await rename(tmp, file)
      } catch (e) {
        await rm(tmp, { force: true })
        throw e
      }
    },
  }
}
