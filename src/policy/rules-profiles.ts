/**
 * Profile rules: one rule per element of a shipped SBOM profile (`sbom.cisa-2026.<element>`,
 * `sbom.bsi-tr-03183-2.<element>`), each violation naming the component and the element it misses, with
 * the document's citation. The element checks and the coverage figures come from score.ts.
 */
import type { RuleContext } from './context.ts'
import { draft, type RuleDraft } from './rule.ts'
import { coverageText, PROFILE_NAMES, type ProfileScore, scoreProfile } from './score.ts'

/** The scores of the profiles the policy enables, in profile order (also policy.json's `coverage`). */
export function profileScores(ctx: RuleContext): ProfileScore[] {
  const profiles = ctx.policy.sbom?.profiles
  if (!profiles) return []
  const out: ProfileScore[] = []
  for (const name of PROFILE_NAMES) {
    const p = profiles[name]
    if (!p) continue
    out.push(
      scoreProfile(ctx.sbom, name, {
        includeDev: p.includeDev === true,
        ...(p.elements ? { elements: p.elements } : {}),
      }),
    )
  }
  return out
}

export function profileRules(ctx: RuleContext, scores: readonly ProfileScore[]): RuleDraft[] {
  const out: RuleDraft[] = []
  for (const score of scores) {
    const level = ctx.policy.sbom?.profiles?.[score.profile]?.level
    for (const e of score.elements) {
      const d = draft(`sbom.${score.profile}.${e.id}`, `${e.name} (${e.cite})`, level, coverageText(e))
      for (const m of e.missing)
        d.violations.push({
          ...(m.purl ? { purl: m.purl } : {}),
          element: e.name,
          message: `${m.subject}: ${m.detail} (${e.cite} '${e.name}')`,
        })
      d.evidence = { element: e.name, cite: e.cite, checked: e.checked, present: e.present }
      out.push(d)
    }
  }
  return out
}
