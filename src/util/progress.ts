/**
 * Edge (terminal): how a command shows its steps while they run (`detbuild run`'s pipeline,
 * `detbuild build`'s phases). On a TTY a live step list, redrawn in place with a spinner and elapsed
 * seconds; elsewhere (CI, pipes) plain lines without timestamps.
 */
import type { Logger } from './log.ts'
import { redactSecrets } from './redact.ts'

/** How a step ended, as the display shows it. */
export type ProgressStatus = 'ok' | 'failed' | 'skipped' | 'not-run'

/** The end of one step: its name, how it ended and one line about it. */
export interface ProgressRecord<S extends string = string> {
  name: S
  status: ProgressStatus
  detail: string
}

/** The hooks a step runner calls; `index`/`total` place the step in the list. */
export interface ProgressHooks<S extends string = string> {
  onStart?(step: S, index: number, total: number): void
  onEnd?(record: ProgressRecord<S>, index: number, total: number): void
}

export interface Progress<S extends string = string> {
  onStart(step: S, index: number, total: number): void
  onEnd(record: ProgressRecord<S>, index: number, total: number): void
  /** the logger the steps get: on a TTY their lines are printed above the live list */
  wrapLogger(log: Logger): Logger
  /** stops the spinner and leaves the final list on screen */
  finish(): void
}

/** CI and pipes: one line when a step starts, one when it ends. */
export function createPlainProgress<S extends string = string>(write: (line: string) => void): Progress<S> {
  return {
    onStart(step, index, total) {
      write(`[${index + 1}/${total}] ${step}`)
    },
    onEnd(record, index, total) {
      const word = record.status === 'failed' ? 'FAIL' : record.status === 'skipped' ? 'skip' : 'ok'
      write(`[${index + 1}/${total}] ${record.name}: ${word}: ${record.detail}`)
    },
    wrapLogger: (log) => log,
    finish() {},
  }
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

interface Row {
  name: string
  state: 'pending' | 'running' | ProgressStatus
  detail: string
  started: number
  seconds: number | null
}

/** A TTY: the whole step list, redrawn in place. `clock` is injectable for tests. */
export function createLiveProgress<S extends string = string>(
  steps: readonly NoInfer<S>[],
  out: { write(text: string): void },
  options: { color: boolean; clock?: () => number; tick?: boolean } = { color: true },
): Progress<S> {
  const clock = options.clock ?? (() => performance.now())
  // drawn straight to the terminal, not through the logger: details and warnings may quote a URL
  const write = (text: string) => out.write(redactSecrets(text))
  const paint = (code: string, s: string) => (options.color ? `\u001b[${code}m${s}\u001b[0m` : s)
  const rows: Row[] = steps.map((name) => ({ name, state: 'pending', detail: '', started: 0, seconds: null }))
  const width = Math.max(...steps.map((s) => s.length))
  let drawn = 0
  let frame = 0
  let timer: NodeJS.Timeout | undefined

  const line = (r: Row): string => {
    const mark =
      r.state === 'running'
        ? paint('36', SPINNER[frame % SPINNER.length]!)
        : r.state === 'ok'
          ? paint('32', '✓')
          : r.state === 'failed'
            ? paint('31', '✗')
            : r.state === 'skipped'
              ? paint('33', '↷')
              : paint('2', '·')
    const secs =
      r.state === 'running'
        ? ` ${((clock() - r.started) / 1000).toFixed(1)}s`
        : r.seconds !== null
          ? ` ${r.seconds.toFixed(1)}s`
          : ''
    const detail = r.detail ? `  ${r.state === 'failed' ? r.detail : paint('2', r.detail)}` : ''
    return `  ${mark} ${r.name.padEnd(width)}${paint('2', secs)}${detail}`
  }
  const clear = () => {
    if (drawn > 0) write(`\u001b[${drawn}F\u001b[J`)
    drawn = 0
  }
  const draw = () => {
    clear()
    write(`${rows.map(line).join('\n')}\n`)
    drawn = rows.length
  }
  const above = (text: string) => {
    clear()
    write(`${text}\n`)
    draw()
  }

  return {
    onStart(step) {
      const row = rows.find((r) => r.name === step)!
      row.state = 'running'
      row.started = clock()
      if (options.tick !== false && timer === undefined) {
        timer = setInterval(() => {
          frame++
          draw()
        }, 100)
        timer.unref()
      }
      draw()
    },
    onEnd(record) {
      const row = rows.find((r) => r.name === record.name)!
      row.state = record.status
      row.detail = record.detail
      row.seconds = (clock() - row.started) / 1000
      draw()
    },
    wrapLogger(log) {
      return {
        color: log.color,
        // step chatter would break the list: only warnings (and --debug lines) are shown, above it
        info() {},
        warn: (m) => above(`${paint('33', 'warning:')} ${m}`),
        debug: (m) => log.debug(m),
      }
    },
    finish() {
      if (timer) clearInterval(timer)
      timer = undefined
      for (const r of rows) if (r.state === 'pending') r.state = 'not-run'
      draw()
      drawn = 0
    },
  }
}
