/**
 * A real browser for the report tests: Debian's `chromium`, headless, driven over the DevTools protocol
 * (CDP) with Node's global WebSocket. One launch per page: open the file, collect every console call,
 * uncaught exception, log entry and network request, evaluate expressions in the page, take a PNG
 * screenshot and print to PDF. scripts/system-tools.sh installs chromium; a missing browser fails the
 * test (never a skip). Also a small PNG decoder (node:zlib) to count non-white pixels.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { inflateSync } from 'node:zlib'

export interface PageRun {
  /** console API calls (any level: the page has no script, so any call is a finding) */
  console: string[]
  /** uncaught exceptions */
  exceptions: string[]
  /** Log domain entries at level error or warning (CSP violations, failed loads) */
  logErrors: string[]
  /** every request other than the page itself */
  requests: string[]
  /** the values of the expressions given, by name */
  values: Record<string, unknown>
  png: Buffer
  pdf: Buffer
}

type Message = {
  id?: number
  method?: string
  params?: Record<string, unknown>
  result?: Record<string, unknown>
  error?: { message: string }
  sessionId?: string
}

/** Opens `file` in headless chromium, evaluates `expressions` after the load, screenshots and prints it. */
export async function openInChromium(
  file: string,
  expressions: Record<string, string>,
  /** evaluated with the print media type emulated, after `expressions` */
  printExpressions: Record<string, string> = {},
): Promise<PageRun> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'detbuild-chromium-'))
  const child = spawn(
    'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-extensions',
      '--disable-background-networking',
      '--disable-component-update',
      '--window-size=1280,1600',
      `--user-data-dir=${profile}`,
      '--remote-debugging-port=0',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  try {
    const wsUrl = await new Promise<string>((resolve, reject) => {
      let err = ''
      const timer = setTimeout(() => reject(new Error(`chromium did not start in 30 s:\n${err}`)), 30_000)
      child.on('error', (e) => {
        clearTimeout(timer)
        reject(new Error(`chromium cannot run (scripts/system-tools.sh installs it): ${e.message}`))
      })
      child.on('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`chromium exited with ${code}:\n${err}`))
      })
      child.stderr.setEncoding('utf8')
      child.stderr.on('data', (chunk: string) => {
        err += chunk
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err)
        if (m?.[1]) {
          clearTimeout(timer)
          resolve(m[1])
        }
      })
    })
    return await drive(wsUrl, file, expressions, printExpressions)
  } finally {
    child.kill('SIGKILL')
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))
    await rm(profile, { recursive: true, force: true })
  }
}

async function drive(
  wsUrl: string,
  file: string,
  expressions: Record<string, string>,
  printExpressions: Record<string, string>,
): Promise<PageRun> {
  const ws = new WebSocket(wsUrl)
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true })
    ws.addEventListener('error', () => reject(new Error('cannot connect to chromium over CDP')), {
      once: true,
    })
  })
  let next = 1
  const pending = new Map<
    number,
    { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }
  >()
  const listeners: Array<(m: Message) => void> = []
  ws.addEventListener('message', (event) => {
    const m = JSON.parse(String(event.data)) as Message
    if (m.id !== undefined) {
      const p = pending.get(m.id)
      pending.delete(m.id)
      if (m.error) p?.reject(new Error(m.error.message))
      else p?.resolve(m.result ?? {})
    } else for (const l of listeners) l(m)
  })
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = next++
      pending.set(id, { resolve, reject })
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }))
    })
  const withTimeout = <T>(p: Promise<T>, what: string): Promise<T> =>
    Promise.race([
      p,
      new Promise<T>((_, reject) =>
        setTimeout(() => reject(new Error(`${what}: timed out`)), 30_000).unref(),
      ),
    ])

  try {
    const { targetId } = await send('Target.createTarget', { url: 'about:blank' })
    const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string
    }
    const run: PageRun = {
      console: [],
      exceptions: [],
      logErrors: [],
      requests: [],
      values: {},
      png: Buffer.alloc(0),
      pdf: Buffer.alloc(0),
    }
    const url = pathToFileURL(file).href
    let loaded: () => void = () => {}
    const load = new Promise<void>((r) => {
      loaded = r
    })
    listeners.push((m) => {
      if (m.sessionId !== sessionId) return
      const p = m.params ?? {}
      if (m.method === 'Runtime.consoleAPICalled')
        run.console.push(`${String(p.type)}: ${JSON.stringify((p.args as unknown[]) ?? [])}`)
      else if (m.method === 'Runtime.exceptionThrown') run.exceptions.push(JSON.stringify(p.exceptionDetails))
      else if (m.method === 'Log.entryAdded') {
        const e = p.entry as { level: string; text: string; url?: string }
        if (e.level === 'error' || e.level === 'warning')
          run.logErrors.push(`${e.level}: ${e.text} ${e.url ?? ''}`)
      } else if (m.method === 'Network.requestWillBeSent') {
        const r = (p.request as { url: string }).url
        if (r !== url) run.requests.push(r)
      } else if (m.method === 'Page.loadEventFired') loaded()
    })
    for (const domain of ['Runtime', 'Log', 'Network', 'Page']) await send(`${domain}.enable`, {}, sessionId)
    await send('Page.navigate', { url }, sessionId)
    await withTimeout(load, `loading ${url}`)
    const evaluate = async (name: string, expression: string): Promise<void> => {
      const r = (await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as {
        result: { value?: unknown }
        exceptionDetails?: unknown
      }
      if (r.exceptionDetails) throw new Error(`${name}: ${JSON.stringify(r.exceptionDetails)}`)
      run.values[name] = r.result.value
    }
    for (const [name, expression] of Object.entries(expressions)) await evaluate(name, expression)
    if (Object.keys(printExpressions).length > 0) {
      await send('Emulation.setEmulatedMedia', { media: 'print' }, sessionId)
      for (const [name, expression] of Object.entries(printExpressions)) await evaluate(name, expression)
      await send('Emulation.setEmulatedMedia', { media: '' }, sessionId)
    }
    const shot = (await send('Page.captureScreenshot', { format: 'png' }, sessionId)) as { data: string }
    run.png = Buffer.from(shot.data, 'base64')
    const pdf = (await withTimeout(
      send('Page.printToPDF', { printBackground: true }, sessionId),
      'printToPDF',
    )) as {
      data: string
    }
    run.pdf = Buffer.from(pdf.data, 'base64')
    return run
  } finally {
    ws.close()
  }
}

/** Decodes an 8-bit RGB or RGBA PNG (no interlace) and counts the pixels that are not (near) white. */
export function pngInk(png: Buffer): { width: number; height: number; ink: number } {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG')
  let offset = 8
  let width = 0
  let height = 0
  let colorType = 0
  const idat: Buffer[] = []
  while (offset < png.length) {
    const len = png.readUInt32BE(offset)
    const type = png.subarray(offset + 4, offset + 8).toString('latin1')
    const data = png.subarray(offset + 8, offset + 8 + len)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      if (data[8] !== 8 || data[12] !== 0) throw new Error('only 8-bit, non-interlaced PNGs')
      colorType = data[9] ?? 0
    } else if (type === 'IDAT') idat.push(data)
    else if (type === 'IEND') break
    offset += 12 + len
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : 0
  if (bpp === 0) throw new Error(`PNG colour type ${colorType} not handled`)
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * bpp
  const prev = Buffer.alloc(stride)
  const line = Buffer.alloc(stride)
  let ink = 0
  for (let y = 0; y < height; y++) {
    const base = y * (stride + 1)
    const filter = raw[base]
    for (let x = 0; x < stride; x++) {
      const v = raw[base + 1 + x] ?? 0
      const a = x >= bpp ? (line[x - bpp] ?? 0) : 0
      const b = prev[x] ?? 0
      const c = x >= bpp ? (prev[x - bpp] ?? 0) : 0
      let out: number
      if (filter === 0) out = v
      else if (filter === 1) out = v + a
      else if (filter === 2) out = v + b
      else if (filter === 3) out = v + ((a + b) >> 1)
      else {
        const p = a + b - c
        const pa = Math.abs(p - a)
        const pb = Math.abs(p - b)
        const pc = Math.abs(p - c)
        out = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)
      }
      line[x] = out & 0xff
    }
    for (let x = 0; x < width; x++) {
      const i = x * bpp
      if ((line[i] ?? 255) < 235 || (line[i + 1] ?? 255) < 235 || (line[i + 2] ?? 255) < 235) ink++
    }
    line.copy(prev)
  }
  return { width, height, ink }
}
