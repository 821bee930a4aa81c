/**
 * Build rules over build.json: reproducibility, network isolation, a sealed build room, pinned toolchain,
 * clean source.
 */
import { compareCodePoint } from '../util/sort.ts'
import type { RuleContext } from './context.ts'
import { isObject, type Obj, str } from './model.ts'
import { draft, notEvaluated, type RuleDraft } from './rule.ts'

const ISOLATION_RANK: Record<string, number> = { none: 2, 'best-effort': 1, allowed: 0 }

export function buildRules(ctx: RuleContext): RuleDraft[] {
  const p = ctx.policy.build
  if (!p) return []
  const out: RuleDraft[] = []
  if (p.reproducible)
    out.push(draft('build.reproducible', 'The build was checked and is reproducible', p.level))
  if (p.networkIsolation)
    out.push(
      draft(
        'build.network-isolation',
        p.networkIsolation === 'none'
          ? 'The build ran without network'
          : 'The build ran with network isolation',
        p.level,
      ),
    )
  if (p.sealed) out.push(draft('build.sealed', 'The build ran in the sealed build room', p.level))
  if (p.toolchain?.pinned || p.toolchain?.integrity)
    out.push(
      draft(
        'build.toolchain-pinned',
        p.toolchain.integrity ? 'The toolchain is pinned with integrity' : 'The toolchain is pinned',
        p.level,
      ),
    )
  if (p.cleanSource)
    out.push(draft('build.source-clean', 'The build ran from a clean, known commit', p.level))
  if (!ctx.build) {
    for (const d of out) notEvaluated(d, 'no build.json', p.required)
    return out
  }
  const b = ctx.build.data
  const sub = (o: unknown, k: string): Obj => (isObject(o) && isObject(o[k]) ? (o[k] as Obj) : {})
  for (const d of out) {
    switch (d.id) {
      case 'build.reproducible': {
        const r = sub(b, 'reproducibility')
        d.evidence = {
          checked: r.checked ?? null,
          reproducible: r.reproducible ?? null,
          report: r.report ?? null,
        }
        if (r.checked !== true)
          d.violations.push({ message: 'reproducibility was not checked (detbuild build --check)' })
        else if (r.reproducible !== true)
          d.violations.push({ message: 'the rebuild differs from the first build' })
        d.passSummary = `reproducible${str(r.report) ? ` (${r.report})` : ''}`
        break
      }
      case 'build.network-isolation': {
        const i = sub(b, 'isolation')
        const network = str(i.network) ?? 'unknown'
        // build.json before the build room recorded `method` ("unshare -rn") instead of `mechanism`
        const mechanism = str(i.mechanism) ?? str(i.method)
        d.evidence = {
          network,
          mechanism: mechanism ?? null,
          requested: i.requested ?? null,
          minimum: p.networkIsolation,
        }
        if ((ISOLATION_RANK[network] ?? -1) < ISOLATION_RANK[p.networkIsolation!]!)
          d.violations.push({
            message: `network isolation was ${network}, the policy needs ${p.networkIsolation}`,
          })
        d.passSummary = `network ${network}${mechanism ? ` via ${mechanism}` : ''}`
        break
      }
      case 'build.sealed': {
        const i = sub(b, 'isolation')
        const mechanism = str(i.mechanism) ?? 'unknown'
        d.evidence = {
          sealed: i.sealed ?? null,
          mechanism,
          pidNamespace: i.pidNamespace ?? null,
          network: i.network ?? null,
          note: i.note ?? null,
        }
        // only an explicit `sealed: true` counts: a build.json that does not say (older detbuild) fails
        if (i.sealed !== true)
          d.violations.push({
            message:
              i.sealed === false
                ? `the build ran unsealed (${mechanism})${str(i.note) ? `: ${i.note}` : ''}`
                : 'build.json does not record a sealed build',
          })
        d.passSummary = `sealed via ${mechanism}`
        break
      }
      case 'build.toolchain-pinned': {
        const tools = sub(b, 'toolchain')
        const seen: Record<string, unknown> = {}
        const names = Object.keys(tools).sort(compareCodePoint)
        if (names.length === 0) d.violations.push({ message: 'build.json records no toolchain' })
        for (const name of names) {
          const t = isObject(tools[name]) ? (tools[name] as Obj) : {}
          seen[name] = {
            version: t.version ?? null,
            pinned: t.pinned ?? null,
            integrity: t.integrity ?? null,
          }
          if (p.toolchain?.pinned !== false && t.pinned !== true)
            d.violations.push({ message: `${name} is not pinned`, tool: name })
          else if (p.toolchain?.integrity && !str(t.integrity))
            d.violations.push({
              message: `${name} ${t.version ?? ''} is pinned without integrity`.trim(),
              tool: name,
            })
        }
        d.evidence = { toolchain: seen }
        d.passSummary = names
          .map((n) => `${n} ${(tools[n] as Obj | undefined)?.version ?? ''}`.trim())
          .join(', ')
        break
      }
      case 'build.source-clean': {
        const s = sub(b, 'source')
        d.evidence = { commit: s.commit ?? null, dirty: s.dirty ?? null }
        if (!str(s.commit)) d.violations.push({ message: 'the source commit is unknown' })
        if (s.dirty !== false) d.violations.push({ message: 'the working tree had uncommitted changes' })
        d.passSummary = `commit ${String(s.commit ?? '').slice(0, 12)}`
        break
      }
    }
  }
  return out
}
