/**
 * `detbuild report`, pure: the workspace as read (ReportInput) → one self-contained HTML page. No script,
 * no external resource (a Content-Security-Policy meta tag forbids every fetch; the one style element is
 * allowed by its hash), collapsible parts are <details>. Every string from the inputs is escaped (esc),
 * every list is cut at a fixed size with "… N more", and nothing depends on the clock, the locale or the
 * host: the same inputs and detbuild version give the same bytes. A step that did not run is shown as
 * "not run", never as clean.
 */
import { createHash } from 'node:crypto'
import { compareCodePoint } from '../util/sort.ts'
import type { VulnsFinding } from '../workspace/index.ts'
import { badge, esc, more, num, table } from './html.ts'
import { type ReportInput, type SbomComponent, type SbomView, toDigestLinks } from './model.ts'

/** Bounds of what one page shows (a huge SBOM or scan still gives a page a browser opens). */
export const REPORT_LIMITS = {
  treeNodes: 2000,
  /** levels of the tree (browsers flatten HTML nested much deeper) */
  treeDepth: 100,
  findings: 500,
  pathsPerFinding: 5,
  violationsPerRule: 100,
  licenses: 200,
  unreachable: 200,
  jsonEntries: 50,
  jsonDepth: 6,
  files: 500,
  /** rows of any other table (artifacts, variations, rules, signatures, digest links) */
  rows: 500,
} as const

const CSS = `:root{color-scheme:light;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--none:#6e7781}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:#fff;margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;border-bottom:1px solid var(--line);padding-bottom:4px;margin-top:32px}h3{font-size:15px;margin:18px 0 6px}
.sub,.more,.note{color:var(--muted)}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:12px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#f6f8fa}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:160px}.card dt{color:var(--muted);font-size:12px}.card dd{margin:2px 0 0;font-size:20px;font-weight:600}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff}.ok{background:var(--ok)}.warn{background:var(--warn)}.bad{background:var(--bad)}.none{background:var(--none)}
.sev-critical,.sev-high{color:var(--bad);font-weight:600}.sev-medium{color:var(--warn);font-weight:600}
.tree,.tree ul{list-style:none;margin:0;padding-left:18px}.tree{padding-left:0}.tree li{margin:1px 0}summary{cursor:pointer}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}.kv dt{color:var(--muted)}.kv dd{margin:0;overflow-wrap:anywhere}
ul.plain{margin:4px 0;padding-left:18px}
@media print{body{padding:0;max-width:none}h2{break-after:avoid}tr,.card{break-inside:avoid}details::details-content{content-visibility:visible;display:block}}`

const CSS_HASH = createHash('sha256').update(CSS).digest('base64')

/** The page's Content-Security-Policy: nothing may be fetched, run or submitted; the one style by hash. */
export const REPORT_CSP = `default-src 'none'; style-src 'sha256-${CSS_HASH}'; img-src 'none'; script-src 'none'; base-uri 'none'; form-action 'none'`

const NOT_RUN = (step: string, file: string): string =>
  `<p>${badge('not run')} no <code>${esc(file)}</code> in the workspace: <code>detbuild ${esc(step)}</code> has not run (nothing here is known to be clean).</p>`

type Section = { id: string; title: string; body: string }

/** The report page for `input` (deterministic bytes). */
export function renderReport(input: ReportInput): string {
  const rootName = input.sbom?.root
    ? `${input.sbom.root.name}${input.sbom.root.version ? `@${input.sbom.root.version}` : ''}`
    : null
  const sections: Section[] = [
    { id: 'build', title: 'Build and reproducibility', body: buildSection(input) },
    { id: 'dependencies', title: 'Dependencies', body: dependencySection(input.sbom) },
    { id: 'findings', title: 'Vulnerability findings', body: findingsSection(input) },
    { id: 'licenses', title: 'Licences', body: licenseSection(input.sbom) },
    { id: 'policy', title: 'Policy', body: policySection(input) },
    { id: 'signatures', title: 'Signatures', body: signatureSection(input) },
    { id: 'digests', title: 'Digests', body: digestSection(input) },
  ]
  const epoch = input.build?.sourceDateEpoch
  const when = epoch !== undefined && Number.isSafeInteger(epoch) ? isoOf(epoch) : null
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="detbuild ${esc(input.detbuildVersion)}">
<title>detbuild report${rootName ? `: ${esc(rootName)}` : ''}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>detbuild report${rootName ? `: <span data-figure="project">${esc(rootName)}</span>` : ''}</h1>
<p class="sub">Made by detbuild ${esc(input.detbuildVersion)} from the ${num(input.files.length)} workspace files listed under <a href="#digests">Digests</a>${when ? `; source date ${esc(when)} (SOURCE_DATE_EPOCH ${esc(epoch)})` : ''}. The page shows what the files say; <code>detbuild verify</code> checks the signatures.</p>
<nav><p>${sections.map((s) => `<a href="#${s.id}">${s.title}</a>`).join(' · ')}</p></nav>
</header>
<main>
${summaryCards(input)}
${sections.map((s) => `<section id="${s.id}">\n<h2>${s.title}</h2>\n${s.body}\n</section>`).join('\n')}
</main>
</body>
</html>
`
}

function isoOf(epoch: number): string {
  const d = new Date(epoch * 1000)
  return Number.isNaN(d.getTime()) ? String(epoch) : d.toISOString().replace('.000Z', 'Z')
}

function card(key: string, label: string, value: string): string {
  return `<div class="card"><dt>${label}</dt><dd data-figure="${key}">${value}</dd></div>`
}

function summaryCards(input: ReportInput): string {
  const repro = input.build
    ? !input.build.reproducibility.checked
      ? badge('not checked')
      : badge(input.build.reproducibility.reproducible === true ? 'yes' : 'no')
    : badge('not run')
  const components = input.sbom ? num(input.sbom.components.length) : badge('not run')
  const v = input.vulns
  const findings = v
    ? `${num(v.findings.length)}${v.complete ? '' : ` ${badge('incomplete')}`}`
    : badge('not run')
  const policy = input.policy
    ? `${badge(input.policy.verdict)} <span class="sub">${esc(input.policy.policy.name)}</span>`
    : badge('not run')
  const signatures = input.signatures ? num(input.signatures.bundles.length) : badge('not run')
  return `<dl class="cards">
${card('reproducible', 'Reproducible', repro)}
${card('components', 'Components', components)}
${card('findings', 'Findings', findings)}
${card('policy', 'Policy', policy)}
${card('signatures', 'Signatures', signatures)}
</dl>`
}

function kv(rows: ReadonlyArray<readonly [string, string]>): string {
  return `<dl class="kv">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`
}

const code = (v: unknown): string => `<code>${esc(v)}</code>`

function buildSection(input: ReportInput): string {
  const b = input.build
  if (!b) return NOT_RUN('build', 'build.json')
  const rows: Array<readonly [string, string]> = [
    ['detbuild', esc(b.detbuild?.version ?? 'unknown')],
    [
      'source',
      b.source
        ? `${esc(b.source.kind)} ${b.source.repo ? code(b.source.repo) : ''} ${b.source.commit ? `commit ${code(b.source.commit)}` : ''}${b.source.dirty ? ` ${badge('warn')} uncommitted changes` : ''}<br>tree sha256 ${code(b.source.treeSha256)}`
        : 'not recorded',
    ],
    [
      'source date',
      `${esc(isoOf(b.sourceDateEpoch))} (${esc(b.sourceDateEpoch)}, from ${esc(b.sourceDateEpochFrom ?? 'unknown')})`,
    ],
  ]
  if (b.config) rows.push(['config', `${code(b.config.file)} sha256 ${code(b.config.sha256)}`])
  if (b.lockfile) rows.push(['lockfile', `${code(b.lockfile.file)} sha256 ${code(b.lockfile.sha256)}`])
  if (b.toolchain) {
    const t = b.toolchain
    const tools = [
      `node ${esc(t.node.version)}${t.node.pinned ? ' (pinned)' : ' (not pinned)'}`,
      `npm ${esc(t.npm.version)}${t.npm.pinned ? ' (pinned)' : ' (not pinned)'}`,
      ...(t.go ? [`go ${esc(t.go.version)}${t.go.pinned ? ' (pinned)' : ' (not pinned)'}`] : []),
    ]
    rows.push(['toolchain', tools.join(', ')])
  }
  if (b.isolation) {
    const i = b.isolation
    rows.push([
      'isolation',
      `network ${esc(i.network)} (asked ${esc(i.requested)}) via ${esc(i.mechanism)}; ${i.sealed ? 'sealed room' : 'not sealed'}${i.note ? `; ${esc(i.note)}` : ''}`,
    ])
  }
  if (b.commands)
    rows.push([
      'commands',
      [...b.commands.install, ...b.commands.build].map((c) => code(c)).join('<br>') || 'none',
    ])
  const p = input.provenance
  rows.push([
    'provenance',
    p
      ? `SLSA provenance v1, ${num(p.subject.length)} ${p.subject.length === 1 ? 'subject' : 'subjects'}, build type ${code(p.predicate.buildDefinition.buildType)}, builder ${code(p.predicate.runDetails.builder.id)}`
      : `${badge('not run')} no provenance.intoto.json in the workspace`,
  ])
  const r = b.reproducibility
  rows.push([
    'reproducibility',
    !r.checked
      ? `${badge('not checked')} the build ran once (<code>detbuild build --check</code> builds twice and compares)`
      : `${badge(r.reproducible === true ? 'yes' : 'no')} ${input.repro?.verdict ? esc(input.repro.verdict) : ''}`,
  ])
  const outputs = b.outputs
    .slice(0, REPORT_LIMITS.rows)
    .map((o) => [code(o.path), num(o.size), code(o.sha256), code(o.sha512)])
  let repro = ''
  if (input.repro) {
    const vars = input.repro.variations
      .slice(0, REPORT_LIMITS.rows)
      .map((v) => [
        esc(v.name),
        v.applied ? badge('yes') : badge('no'),
        `${esc(v.first ?? '')}${v.second !== undefined ? ` → ${esc(v.second)}` : ''}`,
        esc(v.note ?? ''),
      ])
    const outs = input.repro.outputs
      .slice(0, REPORT_LIMITS.rows)
      .map((o) => [
        code(o.name),
        esc(o.status ?? ''),
        o.sha256 ? `${code(o.sha256.first)}<br>${code(o.sha256.second)}` : '',
      ])
    repro = `<h3>The reproducibility check (repro-report.json)</h3>
${table(['variation', 'applied', 'first → second build', 'note'], vars)}
${more(input.repro.variations.length, REPORT_LIMITS.rows, 'variations')}
${table(['output', 'two builds', 'sha256 (first, second)'], outs)}
${more(input.repro.outputs.length, REPORT_LIMITS.rows, 'outputs')}`
  } else if (r.checked)
    repro = `<p class="note">build.json names a check, but there is no repro-report.json.</p>`
  return `${kv(rows)}
<h3>Artifacts (build.json outputs)</h3>
${outputs.length ? table(['artifact', 'bytes', 'sha256', 'sha512'], outputs) : '<p>none</p>'}
${more(b.outputs.length, REPORT_LIMITS.rows, 'artifacts')}
${repro}`
}

// ---- the dependency graph -------------------------------------------------------------------------

function label(c: SbomComponent | undefined, ref: string): string {
  if (!c) return `${code(ref)} <span class="note">(not a component of the SBOM)</span>`
  return `${esc(c.name)}${c.version ? ` <span class="sub">${esc(c.version)}</span>` : ''}${c.scope !== 'required' ? ` <span class="note">(${esc(c.scope)})</span>` : ''}`
}

function dependencySection(sbom: SbomView | null): string {
  if (!sbom) return NOT_RUN('sbom', 'sbom.cdx.json')
  const byRef = new Map<string, SbomComponent>()
  for (const c of sbom.components) if (!byRef.has(c.ref)) byRef.set(c.ref, c)
  if (sbom.root && !byRef.has(sbom.root.ref)) byRef.set(sbom.root.ref, sbom.root)
  const sorted = new Map<string, string[]>()
  const children = (ref: string): string[] => {
    const known = sorted.get(ref)
    if (known) return known
    const list = [...new Set(sbom.dependsOn.get(ref) ?? [])].sort((a, b) => {
      const ka = byRef.get(a)
      const kb = byRef.get(b)
      return compareCodePoint(
        `${ka?.name ?? a}\0${ka?.version ?? ''}`,
        `${kb?.name ?? b}\0${kb?.version ?? ''}`,
      )
    })
    sorted.set(ref, list)
    return list
  }
  const direct = sbom.root ? children(sbom.root.ref) : []
  let edges = 0
  for (const list of sbom.dependsOn.values()) edges += new Set(list).size

  // each component is expanded under the parent through which a breadth-first walk from the root first
  // reaches it (on a shortest path); anywhere else it names that parent
  const home = new Map<string, string | null>()
  if (sbom.root) {
    home.set(sbom.root.ref, null)
    const queue = [sbom.root.ref]
    for (let i = 0; i < queue.length; i++)
      for (const k of children(queue[i] ?? ''))
        if (!home.has(k)) {
          home.set(k, queue[i] ?? null)
          queue.push(k)
        }
  }
  let shown = 0
  let cut = 0
  const inTree = new Set<string>()
  const expanded = new Set<string>()
  // depth-first with an explicit stack (a hostile SBOM may chain components deeper than the call stack)
  const renderTree = (rootRef: string): string => {
    const out: string[] = []
    const stack: Array<{ ref: string; parent: string | null; depth: number } | string> = [
      { ref: rootRef, parent: null, depth: 0 },
    ]
    for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
      if (typeof item === 'string') {
        out.push(item)
        continue
      }
      if (shown >= REPORT_LIMITS.treeNodes) {
        cut++
        continue
      }
      const { ref, parent, depth } = item
      shown++
      inTree.add(ref)
      const kids = children(ref)
      const here = label(byRef.get(ref), ref)
      if (kids.length === 0) {
        out.push(`<li>${here}</li>`)
        continue
      }
      const count = `${num(kids.length)} ${kids.length === 1 ? 'dependency' : 'dependencies'}`
      if (home.get(ref) !== parent || expanded.has(ref)) {
        const at = home.get(ref)
        const under = at ? ` under ${esc(byRef.get(at)?.name ?? at)}` : ''
        out.push(`<li>${here} <span class="note">(${count}, expanded${under})</span></li>`)
        continue
      }
      if (depth >= REPORT_LIMITS.treeDepth) {
        out.push(
          `<li>${here} <span class="more">(${count}: deeper than ${REPORT_LIMITS.treeDepth} levels, not shown)</span></li>`,
        )
        continue
      }
      expanded.add(ref)
      out.push(
        `<li><details${depth < 1 ? ' open' : ''}><summary>${here} <span class="note">(${count})</span></summary><ul>`,
      )
      stack.push('</ul></details></li>')
      for (let k = kids.length - 1; k >= 0; k--)
        stack.push({ ref: kids[k] ?? '', parent: ref, depth: depth + 1 })
    }
    return out.join('')
  }
  const tree = sbom.root
    ? `<ul class="tree">${renderTree(sbom.root.ref)}</ul>${cut > 0 ? `<p class="more">… the tree is cut at its first ${num(REPORT_LIMITS.treeNodes)} entries: ${num(sbom.components.filter((c) => !inTree.has(c.ref)).length)} more components not shown in it</p>` : ''}`
    : '<p>The SBOM names no root component (metadata.component): no tree.</p>'
  const unreachable = sbom.components.filter((c) => !home.has(c.ref))
  const scopes = new Map<string, number>()
  for (const c of sbom.components) scopes.set(c.scope, (scopes.get(c.scope) ?? 0) + 1)
  const ecosystems = new Map<string, number>()
  for (const c of sbom.components) {
    const m = /^pkg:([a-zA-Z0-9.+-]+)\//.exec(c.purl)
    const eco = m?.[1] ?? '(no purl)'
    ecosystems.set(eco, (ecosystems.get(eco) ?? 0) + 1)
  }
  const mapText = (m: Map<string, number>): string =>
    [...m]
      .sort((a, b) => compareCodePoint(a[0], b[0]))
      .map(([k, n]) => `${esc(k)} ${num(n)}`)
      .join(', ')
  const facts = kv([
    ['SBOM', `CycloneDX ${esc(sbom.specVersion)}${sbom.timestamp ? `, ${esc(sbom.timestamp)}` : ''}`],
    ['made by', sbom.tools.length ? sbom.tools.map(esc).join(', ') : 'not named'],
    ['root', sbom.root ? label(sbom.root, sbom.root.ref) : 'none'],
    ['components', `<span data-figure="component-count">${num(sbom.components.length)}</span>`],
    ['direct dependencies', `<span data-figure="direct-count">${num(direct.length)}</span>`],
    ['dependency edges', num(edges)],
    ['by scope', mapText(scopes) || 'none'],
    ['by ecosystem', mapText(ecosystems) || 'none'],
  ])
  const loose =
    sbom.root && unreachable.length > 0
      ? `<h3>Not reachable from the root</h3><ul class="plain">${unreachable
          .slice(0, REPORT_LIMITS.unreachable)
          .map((c) => `<li>${label(c, c.ref)}</li>`)
          .join('')}</ul>${more(unreachable.length, REPORT_LIMITS.unreachable, 'components')}`
      : ''
  return `${facts}\n<h3>Tree from the root</h3>\n${tree}\n${loose}`
}

// ---- findings -------------------------------------------------------------------------------------

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'none', 'unknown'] as const
const rank = (s: string): number => {
  const i = (SEVERITIES as readonly string[]).indexOf(s)
  return i < 0 ? SEVERITIES.length : i
}

function fixAdvice(f: VulnsFinding): string {
  const upgrades = Array.isArray(f.upgrade) ? f.upgrade : []
  const lines = upgrades.map(
    (u) =>
      `upgrade ${esc(u.name)} ${esc(u.version)}${u.to ? ` → ${esc(u.to)}` : ' (to a release that no longer pulls it in)'}${u.major === true ? ' <span class="sev-medium">(major)</span>' : ''}`,
  )
  if (lines.length === 0) return f.fixed ? `fixed in ${esc(f.fixed)}` : 'no fixed version known'
  return `${lines.join('<br>')}${f.fixed ? `<br><span class="note">fixed in ${esc(f.name)} ${esc(f.fixed)}</span>` : ''}`
}

function pathsOf(f: VulnsFinding): string {
  const paths = Array.isArray(f.paths) ? f.paths.filter((p): p is string[] => Array.isArray(p)) : []
  if (paths.length === 0) return '<span class="note">not recorded</span>'
  const shown = paths
    .slice(0, REPORT_LIMITS.pathsPerFinding)
    .map((p) => p.map((x) => esc(x)).join(' → '))
    .join('<br>')
  return paths.length > REPORT_LIMITS.pathsPerFinding
    ? `${shown}<br><span class="more">… ${num(paths.length - REPORT_LIMITS.pathsPerFinding)} more paths</span>`
    : shown
}

function findingsSection(input: ReportInput): string {
  const v = input.vulns
  if (!v) return NOT_RUN('scan', 'vulns.json')
  const counts = SEVERITIES.map(
    (s) => `${s} <span data-figure="severity-${s}">${num(v.counts[s] ?? 0)}</span>`,
  ).join(', ')
  const source =
    v.source.kind === 'offline'
      ? `offline export ${code(v.source.export ?? '')}${v.source.exportSha256 ? ` sha256 ${code(v.source.exportSha256)}` : ''}`
      : `OSV API ${code(v.source.url ?? '')}`
  const facts = kv([
    [
      'coverage',
      v.complete
        ? `${badge('complete')} every component was checked${v.componentsChecked !== undefined ? ` (${num(v.componentsChecked)})` : ''}`
        : `${badge('incomplete')} ${num(v.unchecked.length)} components could not be checked: findings may be missing`,
    ],
    ['source', source],
    ['findings', `<span data-figure="finding-count">${num(v.findings.length)}</span> (${counts})`],
    ['suppressed', num(v.suppressedCount ?? 0)],
    ['scanned SBOM', `${code(v.sbom.file)} sha256 ${code(v.sbom.sha256)}`],
  ])
  const sorted = [...v.findings].sort(
    (a, b) =>
      rank(a.severity) - rank(b.severity) ||
      compareCodePoint(a.name, b.name) ||
      compareCodePoint(a.version, b.version) ||
      compareCodePoint(a.id, b.id),
  )
  const rows = sorted
    .slice(0, REPORT_LIMITS.findings)
    .map((f) => [
      `<span class="sev-${rank(f.severity) < SEVERITIES.length ? f.severity : 'unknown'}">${esc(f.severity)}</span>${typeof f.score === 'number' ? ` ${esc(f.score)}` : ''}`,
      `${code(f.id)}${f.aliases.length ? `<br><span class="note">${f.aliases.map(esc).join(', ')}</span>` : ''}`,
      `${esc(f.name)} ${esc(f.version)}`,
      `${esc(f.summary ?? '')}${f.suppressed ? `<br>${badge('warn')} suppressed` : ''}`,
      pathsOf(f),
      fixAdvice(f),
    ])
  const unchecked = v.unchecked.length
    ? `<h3>Not checked</h3><ul class="plain">${v.unchecked
        .slice(0, REPORT_LIMITS.unreachable)
        .map(
          (u) =>
            `<li>${code(u)}${v.uncheckedReasons && Object.hasOwn(v.uncheckedReasons, u) ? ` ${esc(v.uncheckedReasons[u])}` : ''}</li>`,
        )
        .join('')}</ul>${more(v.unchecked.length, REPORT_LIMITS.unreachable, 'components')}`
    : ''
  return `${facts}
${rows.length ? table(['severity', 'advisory', 'package', 'summary', 'path from the root', 'fix'], rows, 'findings') : '<p>No findings.</p>'}
${more(sorted.length, REPORT_LIMITS.findings, 'findings')}
${unchecked}`
}

// ---- licences -------------------------------------------------------------------------------------

function licenseSection(sbom: SbomView | null): string {
  if (!sbom) return NOT_RUN('sbom', 'sbom.cdx.json')
  const counts = new Map<string, number>()
  for (const c of sbom.components) {
    const names = c.licenses.length ? [...new Set(c.licenses)] : ['(none declared)']
    for (const l of names) counts.set(l, (counts.get(l) ?? 0) + 1)
  }
  const rows = [...counts]
    .sort((a, b) => b[1] - a[1] || compareCodePoint(a[0], b[0]))
    .slice(0, REPORT_LIMITS.licenses)
    .map(([l, n]) => [
      code(l),
      num(n),
      `<meter min="0" max="${sbom.components.length}" value="${n}">${num(n)}</meter>`,
    ])
  return `<p>${num(counts.size)} distinct licences over ${num(sbom.components.length)} components (a component with several is counted under each).</p>
${rows.length ? table(['licence', 'components', 'share'], rows) : '<p>No components.</p>'}
${more(counts.size, REPORT_LIMITS.licenses, 'licences')}`
}

// ---- policy -----------------------------------------------------------------------------------------

const KNOWN_RULE_KEYS = new Set(['id', 'title', 'status', 'summary', 'evidence'])
/** keys of a violation that name the element it concerns, shown first */
const ELEMENT_KEYS = ['element', 'purl', 'ref', 'bomRef', 'component', 'file', 'tool', 'id', 'field', 'rule']

function violationItem(v: unknown): string {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return `<li>${esc(JSON.stringify(v) ?? '')}</li>`
  const o = v as Record<string, unknown>
  const head = typeof o.message === 'string' ? esc(o.message) : ''
  const keys = Object.keys(o)
    .filter(
      (k) =>
        k !== 'message' &&
        (typeof o[k] === 'string' || typeof o[k] === 'number' || typeof o[k] === 'boolean'),
    )
    .sort((a, b) => {
      const ia = ELEMENT_KEYS.indexOf(a)
      const ib = ELEMENT_KEYS.indexOf(b)
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || compareCodePoint(a, b)
    })
  const chips = keys.map((k) => `<span class="note">${esc(k)}</span> ${code(o[k])}`).join(' · ')
  return `<li>${head}${head && chips ? '<br>' : ''}${chips}</li>`
}

/** Any JSON value as nested lists, bounded in depth and entries (for result fields this version does not know). */
export function jsonTree(value: unknown, depth = 0): string {
  if (value === null || typeof value !== 'object') return code(JSON.stringify(value) ?? '')
  if (depth >= REPORT_LIMITS.jsonDepth) return '<span class="more">…</span>'
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.keys(value)
        .sort(compareCodePoint)
        .map((k) => [k, (value as Record<string, unknown>)[k]])
  if (entries.length === 0) return code(Array.isArray(value) ? '[]' : '{}')
  const items = entries
    .slice(0, REPORT_LIMITS.jsonEntries)
    .map(([k, v]) => `<li><span class="note">${esc(k)}</span>: ${jsonTree(v, depth + 1)}</li>`)
    .join('')
  return `<ul class="plain">${items}</ul>${more(entries.length, REPORT_LIMITS.jsonEntries, 'entries')}`
}

function ruleGroup(id: string): string {
  const i = id.lastIndexOf('.')
  return i > 0 ? id.slice(0, i) : id
}

function policySection(input: ReportInput): string {
  const p = input.policy
  if (!p) return NOT_RUN('policy', 'policy.json')
  const facts = kv([
    ['policy', `${esc(p.policy.name)} ${code(p.policy.source)} sha256 ${code(p.policy.sha256)}`],
    ['verdict', `<span data-figure="policy-verdict">${badge(p.verdict)}</span>`],
    ['rules', `pass ${num(p.counts.pass)}, warn ${num(p.counts.warn)}, fail ${num(p.counts.fail)}`],
    ['evaluated at', esc(p.evaluatedAt)],
    ['exceptions', num(p.exceptions.length)],
  ])
  const groups = new Map<string, typeof p.rules>()
  for (const r of p.rules.slice(0, REPORT_LIMITS.rows)) {
    const g = ruleGroup(r.id)
    const list = groups.get(g)
    if (list) list.push(r)
    else groups.set(g, [r])
  }
  const parts: string[] = []
  for (const [group, rules] of groups) {
    const worst = rules.some((r) => r.status === 'fail')
      ? 'fail'
      : rules.some((r) => r.status === 'warn')
        ? 'warn'
        : 'pass'
    const rows = rules.map((r) => {
      const extra = Object.keys(r)
        .filter((k) => !KNOWN_RULE_KEYS.has(k))
        .sort(compareCodePoint)
        .map((k) => `<br><span class="note">${esc(k)}</span> ${jsonTree((r as Record<string, unknown>)[k])}`)
        .join('')
      const violations = Array.isArray(r.evidence?.violations) ? (r.evidence.violations as unknown[]) : []
      const list = violations.length
        ? `<details${r.status === 'fail' ? ' open' : ''}><summary>${num(violations.length)} ${violations.length === 1 ? 'element' : 'elements'}</summary><ul class="plain">${violations
            .slice(0, REPORT_LIMITS.violationsPerRule)
            .map(violationItem)
            .join('')}</ul>${more(violations.length, REPORT_LIMITS.violationsPerRule, 'elements')}</details>`
        : ''
      return [badge(r.status), `${code(r.id)}<br>${esc(r.title)}${extra}`, `${esc(r.summary)}${list}`]
    })
    parts.push(
      `<h3>${esc(group)} ${badge(worst)}</h3>\n${table(['status', 'rule', 'result and the elements concerned'], rows, 'rules')}`,
    )
  }
  const known = new Set([
    'schemaVersion',
    'policy',
    'evaluatedAt',
    'verdict',
    'counts',
    'inputs',
    'rules',
    'exceptions',
  ])
  const others = Object.keys(p)
    .filter((k) => !known.has(k))
    .sort(compareCodePoint)
    .map((k) => `<h3>${esc(k)}</h3>${jsonTree((p as unknown as Record<string, unknown>)[k])}`)
    .join('\n')
  return `${facts}\n${parts.join('\n')}\n${more(p.rules.length, REPORT_LIMITS.rows, 'rules')}\n${others}`
}

// ---- signatures and digests -----------------------------------------------------------------------

function signatureSection(input: ReportInput): string {
  const s = input.signatures
  if (!s) return NOT_RUN('sign', 'signatures.json')
  const present = new Map(input.files.map((f) => [f.name, f]))
  const rows = [...s.bundles]
    .sort((a, b) => compareCodePoint(a.subject, b.subject))
    .slice(0, REPORT_LIMITS.rows)
    .map((b) => [
      code(b.subject),
      esc(b.kind),
      b.signer.type === 'key'
        ? `key ${code(b.signer.keyId)}`
        : `keyless: ${esc(b.signer.identity)}<br><span class="note">issuer</span> ${esc(b.signer.issuer)}`,
      b.tlog ? badge('yes') : badge('no'),
      `${code(b.file)} ${present.has(b.file) ? '' : badge('absent')}`,
    ])
  return `<p class="note">What signatures.json records; the page does not verify signatures (<code>detbuild verify</code> does).</p>
${rows.length ? table(['signed file', 'kind', 'signer', 'transparency log', 'bundle'], rows) : '<p>No signatures.</p>'}
${more(s.bundles.length, REPORT_LIMITS.rows, 'signatures')}`
}

function digestSection(input: ReportInput): string {
  const links = toDigestLinks(input)
  // the links that do not hold first (a stable sort keeps the files' order within each status)
  const order = { differs: 0, absent: 1, matches: 2 } as const
  const linkRows = [...links]
    .sort((a, b) => order[a.status] - order[b.status])
    .slice(0, REPORT_LIMITS.rows)
    .map((l) => [
      code(l.from),
      code(l.to),
      badge(l.status),
      `${code(l.recorded)}${l.status === 'differs' && l.present ? `<br><span class="note">present</span> ${code(l.present)}` : ''}`,
    ])
  const differs = links.filter((l) => l.status === 'differs').length
  const files = input.files
    .slice(0, REPORT_LIMITS.files)
    .map((f) => [code(f.name), num(f.size), code(f.sha256)])
  return `<p>Each file records the digest of what it was made from; a file made from an older input than the one beside it <strong>differs</strong>.</p>
<p>Links: ${num(links.length)}, <span data-figure="links-differ">${num(differs)}</span> differ.</p>
${linkRows.length ? table(['file', 'records the digest of', 'status', 'recorded sha256'], linkRows) : '<p>No links.</p>'}
${more(links.length, REPORT_LIMITS.rows, 'links')}
<h3>The files this page was made from</h3>
${table(['file', 'bytes', 'sha256'], files)}
${more(input.files.length, REPORT_LIMITS.files, 'files')}`
}
