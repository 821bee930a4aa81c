/**
 * The report in a real browser (Debian's chromium, headless, over the DevTools protocol; one launch per
 * page): it renders without console messages, exceptions or log errors, makes no request, holds the
 * key figures in its DOM, screenshots to a non-blank PNG and prints to a PDF. A control page first proves
 * that the harness sees each of those failures. The hostile workspace's strings are in the DOM as text
 * and none of them ran.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { writeReport } from '../../src/index.ts'
import { showBidi } from '../../src/report/html.ts'
import { openInChromium, type PageRun, pngInk } from './browser.ts'
import { HOSTILE, makeHostileWorkspace, makeWorkspace, readJson } from './fixtures.ts'

const cleanup: Array<() => void> = []
after(() => {
  for (const c of cleanup) c()
})

/** What every report page must satisfy in the browser. */
function assertCleanPage(run: PageRun, name: string): void {
  assert.deepEqual(run.console, [], `${name}: console messages`)
  assert.deepEqual(run.exceptions, [], `${name}: uncaught exceptions`)
  assert.deepEqual(run.logErrors, [], `${name}: log errors (CSP violations, failed loads)`)
  assert.deepEqual(run.requests, [], `${name}: network requests`)
  const { width, height, ink } = pngInk(run.png)
  assert.ok(width >= 800 && height >= 600, `${name}: screenshot ${width}x${height}`)
  // text, tables and badges: well over 2% of the first screen is not white
  assert.ok(ink > width * height * 0.02, `${name}: screenshot is blank (${ink} non-white pixels)`)
  assert.equal(run.pdf.subarray(0, 5).toString('latin1'), '%PDF-', `${name}: print-to-PDF`)
  assert.ok(run.pdf.length > 1024, `${name}: PDF of ${run.pdf.length} bytes`)
}

const FIGURES = {
  components: "document.querySelector('[data-figure=components]').textContent",
  findings: "document.querySelector('[data-figure=findings]').textContent",
  policy: "document.querySelector('[data-figure=policy]').textContent",
  signatures: "document.querySelector('[data-figure=signatures]').textContent",
  reproducible: "document.querySelector('[data-figure=reproducible]').textContent",
  text: 'document.body.innerText',
  scripts: 'document.scripts.length',
  images: 'document.images.length',
  pwned: 'typeof window.__pwned',
  openTree: "document.querySelectorAll('.tree details[open]').length",
}

test('the harness sees console messages, exceptions, blocked loads and requests (control page)', async () => {
  const requests: string[] = []
  const server = createServer((req, res) => {
    requests.push(req.url ?? '')
    res.end('x')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-report-control-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'control.html')
  writeFileSync(
    file,
    `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="img-src 'none'"></head>
<body><h1>control</h1><img src="http://127.0.0.1:${port}/blocked.png">
<script>fetch('http://127.0.0.1:${port}/fetched').catch(() => {}); console.error('from the page'); window.__pwned = 1; throw new Error('boom')</script></body></html>`,
  )
  try {
    const run = await openInChromium(file, { pwned: 'typeof window.__pwned' })
    assert.ok(
      run.console.some((c) => c.includes('from the page')),
      'console.error seen',
    )
    assert.ok(
      run.exceptions.some((e) => e.includes('boom')),
      'exception seen',
    )
    assert.ok(
      run.requests.some((r) => r.includes(`127.0.0.1:${port}/fetched`)),
      'request seen',
    )
    assert.ok(
      [...run.logErrors, ...run.console].some((e) => e.includes('Content Security Policy')),
      `CSP violation seen: ${JSON.stringify(run.logErrors)}`,
    )
    assert.ok(!requests.includes('/blocked.png'), 'the CSP held')
    assert.equal(run.values.pwned, 'number', 'the control page’s script ran')
  } finally {
    server.close()
  }
})

test('the golden workspace’s page renders cleanly with its figures, screenshots and prints', async () => {
  const ws = makeWorkspace('all')
  cleanup.push(ws.done)
  await writeReport({ cwd: ws.project, out: ws.out })
  const run = await openInChromium(path.join(ws.out, 'report.html'), FIGURES)
  assertCleanPage(run, 'golden')
  const sbom = readJson(path.join(ws.out, 'sbom.cdx.json'))
  const vulns = readJson(path.join(ws.out, 'vulns.json'))
  const policy = readJson(path.join(ws.out, 'policy.json'))
  const sigs = readJson(path.join(ws.out, 'signatures.json'))
  assert.equal(run.values.components, String(sbom.components.length))
  assert.equal(run.values.findings, String(vulns.findings.length))
  assert.match(String(run.values.policy), new RegExp(`^${policy.verdict}`))
  assert.equal(run.values.signatures, String(sigs.bundles.length))
  assert.equal(run.values.reproducible, 'yes')
  assert.equal(run.values.scripts, 0)
  assert.ok(Number(run.values.openTree) >= 1, 'the root of the tree is open')
  const text = String(run.values.text)
  for (const f of vulns.findings) {
    assert.ok(text.includes(f.id), f.id)
    assert.ok(text.includes(f.paths[0].join(' → ')), `path of ${f.id}`)
  }
  for (const c of sbom.components) assert.ok(text.includes(c.name), c.name)
  assert.ok(text.includes('MIT'), 'the licence mix')
})

test('a workspace with an SBOM only: the other steps read "not run" in the browser', async () => {
  const ws = makeWorkspace(['sbom.cdx.json'])
  cleanup.push(ws.done)
  await writeReport({ cwd: ws.project, out: ws.out })
  const run = await openInChromium(path.join(ws.out, 'report.html'), FIGURES)
  assertCleanPage(run, 'partial')
  for (const key of ['findings', 'policy', 'signatures', 'reproducible'] as const)
    assert.equal(run.values[key], 'not run', key)
  assert.equal(run.values.components, '2')
})

test('hostile strings are text in the DOM: no script ran, no element was injected', async () => {
  const ws = makeHostileWorkspace()
  cleanup.push(ws.done)
  await writeReport({ cwd: ws.project, out: ws.out })
  const closed = "document.querySelector('.tree details:not([open]) li').checkVisibility()"
  const run = await openInChromium(
    path.join(ws.out, 'report.html'),
    { ...FIGURES, closed },
    { printed: closed },
  )
  assertCleanPage(run, 'hostile')
  // a closed part of the tree is hidden on screen and printed in full
  assert.deepEqual([run.values.closed, run.values.printed], [false, true])
  assert.equal(run.values.pwned, 'undefined', 'no planted script ran')
  assert.equal(run.values.scripts, 0)
  assert.equal(run.values.images, 0)
  const text = String(run.values.text)
  // innerText shows the string as written (the bidi override and all); long ones may wrap
  // innerText shows each string as written, bidirectional controls as their code point
  for (const [name, s] of Object.entries(HOSTILE))
    assert.ok(
      text.replace(/\s+/g, ' ').includes(showBidi(s).replace(/\s+/g, ' ')),
      `${name} is shown as text`,
    )
  assert.ok(!text.includes('\u202e'), 'no bidirectional override reaches the page')
  assert.ok(text.includes('⟨U+202E⟩'))
})
