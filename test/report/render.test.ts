/**
 * `detbuild report` without a browser: the page holds the figures of its inputs, is byte-identical when
 * made twice (and in another folder), shows absent steps as "not run", escapes every hostile string,
 * bounds huge inputs, and refuses a missing or unusable workspace with its documented codes.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { renderReport, writeReport } from '../../src/index.ts'
import { esc } from '../../src/report/html.ts'
import { readReportInput } from '../../src/report/index.ts'
import { toSbomView } from '../../src/report/model.ts'
import { REPORT_LIMITS } from '../../src/report/render.ts'
import { runCli } from '../evidence/helpers.ts'
import { HOSTILE, makeHostileWorkspace, makeWorkspace, readJson, writeJson } from './fixtures.ts'

/** The inner HTML of the element marked `data-figure="key"` (nested elements of its own kind included). */
const figure = (html: string, key: string): string => {
  const m = new RegExp(`<(dd|span) data-figure="${key}">`).exec(html)
  assert.ok(m, `no figure ${key}`)
  const tag = m[1]
  const start = m.index + m[0].length
  let depth = 1
  const re = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'g')
  re.lastIndex = start
  for (let t = re.exec(html); t; t = re.exec(html)) {
    depth += t[1] ? -1 : 1
    if (depth === 0) return html.slice(start, t.index)
  }
  assert.fail(`figure ${key} is not closed`)
}

test('the page holds the figures of the golden workspace, and the same inputs give the same bytes anywhere', async () => {
  const a = makeWorkspace('all')
  const b = makeWorkspace('all')
  try {
    const first = await writeReport({ cwd: a.project, out: a.out })
    assert.equal(first.file, '.detbuild/report.html')
    const html = readFileSync(path.join(a.out, 'report.html'), 'utf8')
    const again = await writeReport({ cwd: a.project, out: a.out })
    assert.equal(again.sha256, first.sha256, 'made twice')
    const other = await writeReport({ cwd: b.project, out: b.out })
    assert.equal(other.sha256, first.sha256, 'made in another folder')
    // another time zone and locale, in another process
    const script = `const { writeReport } = await import(${JSON.stringify(new URL('../../src/report/index.ts', import.meta.url).href)}); process.stdout.write((await writeReport({ cwd: ${JSON.stringify(b.project)}, out: ${JSON.stringify(b.out)} })).sha256)`
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, TZ: 'Pacific/Kiritimati', LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' },
      encoding: 'utf8',
    })
    assert.equal(child.stdout, first.sha256, child.stderr)
    assert.ok(!html.includes(a.project) && !html.includes(path.dirname(a.project)), 'no host path')

    const sbom = readJson(path.join(a.out, 'sbom.cdx.json'))
    const vulns = readJson(path.join(a.out, 'vulns.json'))
    const policy = readJson(path.join(a.out, 'policy.json'))
    const sigs = readJson(path.join(a.out, 'signatures.json'))
    const build = readJson(path.join(a.out, 'build.json'))
    assert.equal(figure(html, 'components'), String(sbom.components.length))
    assert.equal(figure(html, 'finding-count'), String(vulns.findings.length))
    assert.equal(figure(html, 'signatures'), String(sigs.bundles.length))
    assert.match(figure(html, 'policy-verdict'), new RegExp(`>${policy.verdict}<`))
    assert.match(figure(html, 'reproducible'), build.reproducibility.reproducible ? />yes</ : />no</)
    for (const f of vulns.findings) {
      assert.ok(html.includes(esc(f.id)), f.id)
      // the path from the root and the fix advice scan computed
      assert.ok(html.includes(f.paths[0].map(esc).join(' → ')), `path of ${f.id}`)
      for (const u of f.upgrade)
        assert.ok(html.includes(`upgrade ${esc(u.name)} ${esc(u.version)} → ${esc(u.to)}`))
    }
    for (const s of Object.keys(vulns.counts))
      assert.equal(figure(html, `severity-${s}`), String(vulns.counts[s]), s)
    for (const r of policy.rules) assert.ok(html.includes(`<code>${esc(r.id)}</code>`), r.id)
    for (const b of sigs.bundles) assert.ok(html.includes(esc(b.signer.keyId)), 'the signer of each bundle')
    for (const o of build.outputs) assert.ok(html.includes(o.sha512), 'the artifact digests')
    assert.equal(figure(html, 'links-differ'), '0', 'the golden files agree with each other')
    // the source date of the build is the only time; no clock
    assert.ok(html.includes(new Date(build.sourceDateEpoch * 1000).toISOString().replace('.000Z', 'Z')))
    assert.equal((html.match(/<script/gi) ?? []).length, 0, 'no script')
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/)
  } finally {
    a.done()
    b.done()
  }
})

test('a step that did not run is shown as "not run", never as clean', async () => {
  const ws = makeWorkspace(['sbom.cdx.json'])
  try {
    const r = await writeReport({ cwd: ws.project, out: ws.out })
    assert.deepEqual(r.steps, {
      build: 'not run',
      sbom: 'present',
      scan: 'not run',
      policy: 'not run',
      sign: 'not run',
    })
    const html = readFileSync(path.join(ws.out, 'report.html'), 'utf8')
    for (const key of ['reproducible', 'findings', 'policy', 'signatures'])
      assert.match(figure(html, key), />not run</, key)
    assert.ok(!html.includes('>clean<'), 'nothing is called clean')
    for (const file of ['build.json', 'vulns.json', 'policy.json', 'signatures.json'])
      assert.ok(html.includes(`no <code>${file}</code> in the workspace`), file)
    // the CLI says which steps are missing
    const run = await runCli(['report'], ws.project)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /not run: build, scan, policy, sign/)
  } finally {
    ws.done()
  }
})

test('every hostile string is escaped: the page shows it as text, nothing of it is markup', async () => {
  const ws = makeHostileWorkspace()
  try {
    await writeReport({ cwd: ws.project, out: ws.out })
    const html = readFileSync(path.join(ws.out, 'report.html'), 'utf8')
    assert.equal((html.match(/<script/gi) ?? []).length, 0)
    assert.equal((html.match(/<img/gi) ?? []).length, 0)
    assert.equal((html.match(/<style/gi) ?? []).length, 1, 'only the page’s own style')
    assert.equal((html.match(/<\/style/gi) ?? []).length, 1)
    assert.ok(!/<[^>]*\sonerror=/i.test(html), 'no event handler in a tag')
    assert.ok(!/href="javascript:/i.test(html))
    for (const [name, s] of Object.entries(HOSTILE))
      assert.ok(html.includes(esc(s)), `${name} is on the page, escaped`)
    assert.ok(!html.includes('\u202e'), 'a bidirectional override is shown, not applied')
    assert.ok(html.includes('⟨U+202E⟩gnp.exe'))
    // the escaping is of all five characters, in text and in attribute values
    assert.equal(
      esc(`<a href="x" title='y'>&</a>`),
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    )
  } finally {
    ws.done()
  }
})

test('a huge SBOM gives a bounded page: the tree, the licences and the findings are cut with "… N more"', async () => {
  const ws = makeWorkspace(['sbom.cdx.json', 'vulns.json'])
  try {
    const sbomFile = path.join(ws.out, 'sbom.cdx.json')
    const sbom = readJson(sbomFile)
    const n = 6000
    sbom.components = []
    sbom.dependencies = []
    const root = sbom.metadata.component['bom-ref']
    // a chain 6000 deep (a recursive walk would be the attacker's) plus a licence per component
    for (let i = 0; i < n; i++) {
      const ref = `pkg:npm/c${i}@1.0.0`
      sbom.components.push({
        type: 'library',
        name: `c${i}`,
        version: '1.0.0',
        'bom-ref': ref,
        licenses: [{ license: { name: `L${i}` } }],
      })
      sbom.dependencies.push({ ref, dependsOn: i + 1 < n ? [`pkg:npm/c${i + 1}@1.0.0`] : [] })
    }
    // and 3000 direct dependencies without a licence
    const wide = 3000
    for (let i = 0; i < wide; i++)
      sbom.components.push({ type: 'library', name: `w${i}`, version: '1.0.0', 'bom-ref': `w${i}` })
    sbom.dependencies.push({
      ref: root,
      dependsOn: ['pkg:npm/c0@1.0.0', ...Array.from({ length: wide }, (_, i) => `w${i}`)],
    })
    writeJson(sbomFile, sbom)
    const vulnsFile = path.join(ws.out, 'vulns.json')
    const vulns = readJson(vulnsFile)
    const f = vulns.findings[0]
    vulns.findings = Array.from({ length: 1200 }, (_, i) => ({ ...f, id: `GHSA-${i}` }))
    writeJson(vulnsFile, vulns)

    const input = await readReportInput({ cwd: ws.project, out: ws.out })
    const total = n + wide
    assert.equal(input.sbom?.components.length, total)
    const html = renderReport(input)
    const en = (x: number) => x.toLocaleString('en-US')
    assert.equal(figure(html, 'components'), en(total))
    // the chain is cut at the depth limit, the tree at the entry limit (the root is one entry)
    assert.ok(html.includes(`(1 dependency: deeper than ${REPORT_LIMITS.treeDepth} levels, not shown)`))
    assert.ok(
      html.includes(
        `the tree is cut at its first ${en(REPORT_LIMITS.treeNodes)} entries: ${en(total - REPORT_LIMITS.treeNodes + 1)} more components not shown in it`,
      ),
    )
    // n licences and "(none declared)"
    assert.ok(html.includes(`more licences not shown (${REPORT_LIMITS.licenses} of ${en(n + 1)})`))
    assert.ok(html.includes(`more findings not shown (${REPORT_LIMITS.findings} of 1,200)`))
    assert.ok(html.length < 4_000_000, `page of ${html.length} characters`)
  } finally {
    ws.done()
  }
})

test('a file made from another input than the one present shows as "differs" under Digests', async () => {
  const ws = makeWorkspace('all')
  try {
    const sbomFile = path.join(ws.out, 'sbom.cdx.json')
    writeFileSync(sbomFile, `${readFileSync(sbomFile, 'utf8')}\n`)
    const html = renderReport(await readReportInput({ cwd: ws.project, out: ws.out }))
    // vulns.json and policy.json both recorded the SBOM before it changed
    assert.equal(figure(html, 'links-differ'), '2')
  } finally {
    ws.done()
  }
})

test('no workspace, an empty one, a symlink, a non-CycloneDX SBOM and an invalid file fail with one line (exit 2)', async () => {
  const ws = makeWorkspace([])
  try {
    const cases: Array<[string, () => void, string, RegExp]> = [
      ['missing', () => rmSync(ws.out, { recursive: true }), 'REPORT_WORKSPACE_MISSING', /\.detbuild/],
      ['empty', () => mkdirSync(ws.out), 'REPORT_WORKSPACE_EMPTY', /\.detbuild/],
      [
        'symlink',
        () => symlinkSync('/etc/hostname', path.join(ws.out, 'sbom.cdx.json')),
        'REPORT_FILE_UNREADABLE',
        /\.detbuild\/sbom\.cdx\.json.*symbolic link/,
      ],
      [
        'not CycloneDX',
        () => {
          rmSync(path.join(ws.out, 'sbom.cdx.json'))
          writeJson(path.join(ws.out, 'sbom.cdx.json'), { spdxVersion: 'SPDX-2.3' })
        },
        'REPORT_SBOM_INVALID',
        /sbom\.cdx\.json.*bomFormat/,
      ],
      [
        'schema',
        () => {
          rmSync(path.join(ws.out, 'sbom.cdx.json'))
          writeJson(path.join(ws.out, 'vulns.json'), { schemaVersion: 1 })
        },
        'WORKSPACE_VULNS_INVALID',
        /vulns\.json/,
      ],
    ]
    for (const [name, arrange, code, message] of cases) {
      arrange()
      const run = await runCli(['--json', 'report'], ws.project)
      assert.equal(run.code, 2, `${name}: ${run.stdout}${run.stderr}`)
      assert.match(run.stderr, new RegExp(code), name)
      assert.match(run.stderr, message, name)
      assert.ok(!/\n\s+at /.test(run.stderr), `${name}: no stack trace`)
    }
  } finally {
    ws.done()
  }
})

test('the tree expands each component once, on a shortest path from the root, and survives cycles', () => {
  const c = (name: string) => ({ type: 'library', name, version: '1', 'bom-ref': name })
  const sbom = toSbomView({
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    metadata: { component: c('app') },
    components: [c('a'), c('b'), c('shared'), c('leaf'), c('orphan')],
    dependencies: [
      // app → a → b → shared → leaf, and app → shared directly; shared → a closes a cycle
      { ref: 'app', dependsOn: ['a', 'shared'] },
      { ref: 'a', dependsOn: ['b'] },
      { ref: 'b', dependsOn: ['shared'] },
      { ref: 'shared', dependsOn: ['leaf', 'a'] },
    ],
  })
  assert.ok(typeof sbom !== 'string')
  const html = renderReport({
    detbuildVersion: '0',
    files: [],
    build: null,
    repro: null,
    provenance: null,
    sbom,
    vulns: null,
    policy: null,
    signatures: null,
  })
  const tree = html.slice(
    html.indexOf('<ul class="tree">'),
    html.indexOf('</section>', html.indexOf('<ul class="tree">')),
  )
  // shared is expanded where the root reaches it directly, not under b
  assert.match(
    tree,
    /<summary>shared <span class="sub">1<\/span> <span class="note">\(2 dependencies\)<\/span><\/summary>/,
  )
  assert.ok(
    tree.includes(
      'shared <span class="sub">1</span> <span class="note">(2 dependencies, expanded under app)</span>',
    ),
  )
  // the cycle back to a points at a's place instead of looping
  assert.ok(
    tree.includes(
      'a <span class="sub">1</span> <span class="note">(1 dependency, expanded under app)</span>',
    ),
  )
  assert.equal((tree.match(/<summary>a </g) ?? []).length, 1)
  // the component nothing reaches is listed
  assert.match(tree, /Not reachable from the root<\/h3><ul class="plain"><li>orphan /)
})

test('a huge policy result and signature list give a bounded page', async () => {
  const ws = makeWorkspace('all')
  try {
    const policyFile = path.join(ws.out, 'policy.json')
    const policy = readJson(policyFile)
    const rule = policy.rules[0]
    policy.rules = Array.from({ length: 2000 }, (_, i) => ({ ...rule, id: `x.r${i}` }))
    writeJson(policyFile, policy)
    const sigFile = path.join(ws.out, 'signatures.json')
    const sigs = readJson(sigFile)
    const bundle = sigs.bundles[0]
    sigs.bundles = Array.from({ length: 3000 }, (_, i) => ({
      ...bundle,
      subject: `s${i}`,
      file: `s${i}.sigstore.json`,
    }))
    writeJson(sigFile, sigs)
    const html = renderReport(await readReportInput({ cwd: ws.project, out: ws.out }))
    const rows = REPORT_LIMITS.rows
    assert.ok(html.includes(`more rules not shown (${rows} of 2,000)`))
    assert.ok(html.includes(`more signatures not shown (${rows} of 3,000)`))
    // 3000 signed files absent: the links that do not hold come first, and are cut
    assert.ok(html.includes(`more links not shown (${rows} of `))
    assert.ok(html.length < 4_000_000, `page of ${html.length} characters`)
  } finally {
    ws.done()
  }
})
