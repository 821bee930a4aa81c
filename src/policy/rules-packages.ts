/** Package rules: a deny list by purl pattern and semver range, and allowed/forbidden registries. */
import semver from 'semver'
import { compareCodePoint } from '../util/sort.ts'
import type { RuleContext } from './context.ts'
import { type ComponentView, isObject, str } from './model.ts'
import { matchesPurl, parsePurl } from './purl.ts'
import { draft, type RuleDraft } from './rule.ts'

/** The registry each purl type defaults to when the purl carries no `repository_url` (purl spec). */
const DEFAULT_REGISTRIES: Record<string, string> = {
  npm: 'https://registry.npmjs.org',
  pypi: 'https://pypi.org',
  cargo: 'https://crates.io',
  gem: 'https://rubygems.org',
  maven: 'https://repo.maven.apache.org/maven2',
  nuget: 'https://api.nuget.org/v3/index.json',
  golang: 'https://proxy.golang.org',
}

const normalizeUrl = (u: string): string => u.trim().replace(/\/+$/, '').toLowerCase()

/** Where a component was fetched from, and how we know. */
export function registryOf(c: ComponentView): { url: string; from: string } | undefined {
  const parts = c.purl ? parsePurl(c.purl) : null
  const repo = parts?.qualifiers.repository_url
  if (repo) return { url: repo.includes('://') ? repo : `https://${repo}`, from: 'purl repository_url' }
  const refs = Array.isArray(c.raw.externalReferences) ? c.raw.externalReferences.filter(isObject) : []
  const dist = refs.find((r) => r.type === 'distribution' && str(r.url))
  if (dist) return { url: dist.url as string, from: 'externalReferences distribution' }
  const props = Array.isArray(c.raw.properties) ? c.raw.properties.filter(isObject) : []
  const resolved = props.find((p) => p.name === 'cdx:npm:package:resolved' && str(p.value))
  if (resolved) return { url: resolved.value as string, from: 'cdx:npm:package:resolved' }
  const def = parts ? DEFAULT_REGISTRIES[parts.type] : undefined
  return def ? { url: def, from: `default registry for pkg:${parts!.type}` } : undefined
}

function underRegistry(url: string, registry: string): boolean {
  const u = normalizeUrl(url)
  const r = normalizeUrl(registry)
  return u === r || u.startsWith(`${r}/`)
}

export function packageRules(ctx: RuleContext): RuleDraft[] {
  const p = ctx.policy.packages
  if (!p) return []
  const out: RuleDraft[] = []
  const components = ctx.sbom.components.filter((c) => p.includeDev !== false || !c.dev)
  const scope = `${components.length} component${components.length === 1 ? '' : 's'} checked`

  if (p.deny && p.deny.length > 0) {
    const d = draft('packages.denied', 'No denied packages', p.level, scope)
    for (const c of components) {
      if (!c.purl) continue
      for (const entry of p.deny) {
        if (!matchesPurl(entry.purl, c.purl)) continue
        if (entry.versions !== undefined) {
          const version = parsePurl(c.purl)?.version ?? c.version
          // a version we cannot compare is treated as matching: fail closed
          if (
            version &&
            semver.valid(version) &&
            !semver.satisfies(version, entry.versions, { includePrerelease: true })
          )
            continue
        }
        d.violations.push({
          message: `${c.purl} is denied${entry.reason ? ` (${entry.reason})` : ''}`,
          purl: c.purl,
          pattern: entry.purl,
          ...(entry.versions !== undefined ? { versions: entry.versions } : {}),
          ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
        })
        break
      }
    }
    d.evidence = { checked: components.length, deny: p.deny }
    out.push(d)
  }

  const allow = p.registries?.allow ?? []
  const deny = p.registries?.deny ?? []
  if (allow.length > 0 || deny.length > 0) {
    const d = draft('packages.registries', 'Packages come from allowed registries', p.level, scope)
    const seen = new Map<string, number>()
    for (const c of components) {
      const where = registryOf(c)
      const subject = c.purl ? { purl: c.purl } : { component: c.label }
      if (!where) {
        d.violations.push({ ...subject, message: `${c.label}: registry unknown` })
        continue
      }
      const origin = /^[a-z+]+:\/\/[^/]+/i.exec(where.url)?.[0] ?? where.url
      seen.set(origin, (seen.get(origin) ?? 0) + 1)
      const denied = deny.find((r) => underRegistry(where.url, r))
      if (denied) {
        d.violations.push({
          ...subject,
          message: `${c.label} comes from forbidden ${denied}`,
          registry: where,
        })
      } else if (allow.length > 0 && !allow.some((r) => underRegistry(where.url, r))) {
        d.violations.push({
          ...subject,
          message: `${c.label} comes from ${where.url}, not an allowed registry`,
          registry: where,
        })
      }
    }
    d.evidence = {
      checked: components.length,
      allow,
      deny,
      origins: Object.fromEntries([...seen].sort((a, b) => compareCodePoint(a[0], b[0]))),
    }
    out.push(d)
  }
  return out
}
