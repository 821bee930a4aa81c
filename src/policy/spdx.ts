/**
 * SPDX expressions, evaluated whole: an expression is acceptable when one of its OR branches is. Uses
 * spdx-expression-parse for the grammar and spdx-satisfies for licence ranges (`-or-later`, `+`).
 */
import parse, { type SpdxNode } from 'spdx-expression-parse'
import satisfies from 'spdx-satisfies'

export interface SpdxLeaf {
  license: string
  plus: boolean
  exception?: string
  /** the leaf as an SPDX expression, e.g. `Apache-2.0 WITH LLVM-exception` */
  text: string
}

export type ParsedSpdx =
  | { ok: true; branches: SpdxLeaf[][]; leaves: SpdxLeaf[] }
  | { ok: false; error: string }

const MAX_BRANCHES = 256

/** Parses an expression into its disjunctive normal form (OR of AND-branches). */
export function parseSpdx(expression: string): ParsedSpdx {
  let node: SpdxNode
  try {
    node = parse(expression.trim())
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) }
  }
  const branches = expand(node)
  if (branches === null) return { ok: false, error: 'expression too large' }
  const leaves = new Map<string, SpdxLeaf>()
  for (const b of branches) for (const l of b) leaves.set(l.text, l)
  return { ok: true, branches, leaves: [...leaves.values()] }
}

function expand(node: SpdxNode): SpdxLeaf[][] | null {
  if ('license' in node) {
    const text = `${node.license}${node.plus ? '+' : ''}${node.exception ? ` WITH ${node.exception}` : ''}`
    const leaf: SpdxLeaf = { license: node.license, plus: node.plus === true, text }
    if (node.exception) leaf.exception = node.exception
    return [[leaf]]
  }
  const left = expand(node.left)
  const right = expand(node.right)
  if (!left || !right) return null
  if (node.conjunction === 'or') return left.length + right.length > MAX_BRANCHES ? null : [...left, ...right]
  if (left.length * right.length > MAX_BRANCHES) return null
  const out: SpdxLeaf[][] = []
  for (const l of left) for (const r of right) out.push([...l, ...r])
  return out
}

function safeSatisfies(expression: string, list: string[], onError: boolean): boolean {
  if (list.length === 0) return false
  try {
    return satisfies(expression, list)
  } catch {
    return onError
  }
}

function base(leaf: SpdxLeaf): string {
  return `${leaf.license}${leaf.plus ? '+' : ''}`
}

export interface LicenseJudgement {
  allowed: boolean
  /** the first acceptable OR-branch, joined with AND */
  branch?: string
  /** leaves that are on a deny list, in the order met */
  denied: string[]
  /** leaves missing from the allow list */
  notAllowed: string[]
}

/**
 * Whether an expression can be used under `allow` (empty: everything not denied) and `deny`. A `WITH`
 * exception only adds permissions, so `Apache-2.0 WITH LLVM-exception` is allowed when `Apache-2.0` is;
 * a leaf matching a denied licence or range (`GPL-2.0-or-later` vs `GPL-3.0-only`) counts as denied.
 * `excepted` lists licences an exception accepts for this component.
 */
export function judgeLicense(
  parsed: Extract<ParsedSpdx, { ok: true }>,
  allow: string[],
  deny: string[],
  excepted: string[] = [],
): LicenseJudgement {
  const denied = new Set<string>()
  const notAllowed = new Set<string>()
  let branch: string | undefined
  for (const b of parsed.branches) {
    let ok = true
    for (const leaf of b) {
      // licences accepted by an exception for this component pass whatever the lists say
      if (safeSatisfies(leaf.text, excepted, false)) continue
      const isAllowed =
        allow.length === 0 ||
        safeSatisfies(leaf.text, allow, false) ||
        (leaf.exception !== undefined && safeSatisfies(base(leaf), allow, false))
      const isDenied =
        deny.length > 0 &&
        (safeSatisfies(leaf.text, deny, true) ||
          (leaf.exception !== undefined && safeSatisfies(base(leaf), deny, true)))
      if (!isAllowed) notAllowed.add(leaf.text)
      if (isDenied) denied.add(leaf.text)
      if (!isAllowed || isDenied) ok = false
    }
    if (ok && branch === undefined) branch = b.map((l) => l.text).join(' AND ')
  }
  const out: LicenseJudgement = {
    allowed: branch !== undefined,
    denied: [...denied],
    notAllowed: [...notAllowed],
  }
  if (branch !== undefined) out.branch = branch
  return out
}
