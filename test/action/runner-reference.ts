/**
 * How the GitHub Actions runner reads a step's stdout and GITHUB_OUTPUT, written from its documented
 * behaviour (actions/runner ActionCommand.TryParseV2 / TryParse and the file-command reader) so tests
 * can check detbuild's output the way the runner will see it. Deliberately strict: every name counts as
 * a known command.
 */

export interface RunnerCommand {
  name: string
  properties: Record<string, string>
  data: string
  legacy: boolean
}

/** The runner splits stdout at `\n`, `\r\n` and a lone `\r`. */
export function runnerLines(stdout: string): string[] {
  return stdout.split(/\r\n|\r|\n/)
}

const unescapeWith = (value: string, pairs: Array<[string, string]>): string =>
  pairs.reduce((v, [escaped, raw]) => v.split(escaped).join(raw), value)

/** The runner's unescaping, in its order (`%25` last). */
export const unescapeData = (v: string): string =>
  unescapeWith(v, [
    ['%0D', '\r'],
    ['%0A', '\n'],
    ['%25', '%'],
  ])
export const unescapeProperty = (v: string): string =>
  unescapeWith(v, [
    ['%0D', '\r'],
    ['%0A', '\n'],
    ['%3A', ':'],
    ['%2C', ','],
    ['%25', '%'],
  ])

/** A line as a command (`::name props::data`, after leading white space, or legacy `##[name]`), or null. */
export function parseRunnerCommand(line: string): RunnerCommand | null {
  const trimmed = line.replace(/^[\s\u0085]+/, '')
  if (trimmed.startsWith('::')) {
    const end = trimmed.indexOf('::', 2)
    if (end >= 0) {
      const info = trimmed.slice(2, end)
      const space = info.indexOf(' ')
      const name = space < 0 ? info : info.slice(0, space)
      if (name !== '') {
        const properties: Record<string, string> = {}
        if (space > 0)
          for (const p of info
            .slice(space + 1)
            .trim()
            .split(',')
            .filter((x) => x !== '')) {
            const eq = p.indexOf('=')
            if (eq > 0 && eq < p.length - 1) properties[p.slice(0, eq)] = unescapeProperty(p.slice(eq + 1))
          }
        return {
          name: name.toLowerCase(),
          properties,
          data: unescapeData(trimmed.slice(end + 2)),
          legacy: false,
        }
      }
    }
  }
  const legacy = line.indexOf('##[')
  if (legacy >= 0) {
    const rb = line.indexOf(']', legacy)
    if (rb >= 0) {
      const info = line.slice(legacy + 3, rb)
      const name = info.split(' ')[0]!
      if (name !== '')
        return { name: name.toLowerCase(), properties: {}, data: line.slice(rb + 1), legacy: true }
    }
  }
  return null
}

/**
 * GITHUB_OUTPUT as the runner reads it: `name=value` lines and `name<<DELIMITER` blocks ending at the
 * first line equal to the delimiter; lines split at `\n` (on Windows runners at `\r\n` too: `crlf`).
 * Throws where the runner would fail the step (an unterminated block, a line that is neither form).
 */
export function parseGithubOutput(text: string, options: { crlf?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n').map((l) => (options.crlf && l.endsWith('\r') ? l.slice(0, -1) : l))
  if (lines.at(-1) === '') lines.pop()
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line === '') continue
    const eq = line.indexOf('=')
    const hd = line.indexOf('<<')
    if (eq >= 0 && (hd < 0 || eq < hd)) {
      out[line.slice(0, eq)] = line.slice(eq + 1)
    } else if (hd >= 0) {
      const name = line.slice(0, hd)
      const delimiter = line.slice(hd + 2)
      if (name === '' || delimiter === '') throw new Error(`line ${i + 1}: invalid block start`)
      const value: string[] = []
      for (i++; ; i++) {
        if (i >= lines.length) throw new Error(`block ${name} is not terminated by ${delimiter}`)
        if (lines[i] === delimiter) break
        value.push(lines[i]!)
      }
      out[name] = value.join('\n')
    } else throw new Error(`line ${i + 1} is neither name=value nor name<<delimiter: ${JSON.stringify(line)}`)
  }
  return out
}
