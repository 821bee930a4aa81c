'use strict'
/**
 * Run-time helpers of the compiled CycloneDX JSON validators next to this file (validate-1.x.cjs, made by
 * scripts/gen-cdx-validators.ts with ajv's standalone code generation).
 *
 * - `formats`: the formats the CycloneDX library's validator installs (ajv-formats' full set, and
 *   idn-email from ajv-formats-draft2019; iri-reference is `true`, i.e. unchecked, and needs no code).
 * - `duplicateOf`: `uniqueItems` by a Map of canonical JSON keys, linear in the array, instead of ajv's
 *   pairwise deep comparison (quadratic: 182 ms of a 2,203-package SBOM's check). Hand-written because
 *   ajv offers no hashed variant. It reports the same pair ajv's own check reports: the last item that
 *   repeats an earlier one (i), and the last earlier copy of it (j).
 */
const { fullFormats } = require('ajv-formats/dist/formats')
const draft2019 = require('ajv-formats-draft2019/formats')

exports.formats = { ...fullFormats, 'idn-email': draft2019['idn-email'] }

/** JSON text with object keys sorted: equal for two JSON values exactly when ajv's deep equality holds. */
function canonical(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonical(value[i])
    return `${out}]`
  }
  const keys = Object.keys(value).sort()
  let out = '{'
  for (let i = 0; i < keys.length; i++)
    out += `${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:${canonical(value[keys[i]])}`
  return `${out}}`
}

/** `[i, j]` (j < i, both as large as possible) when items i and j are equal, else undefined. */
exports.duplicateOf = function duplicateOf(items) {
  const seen = new Map()
  let found
  for (let i = 0; i < items.length; i++) {
    const key = canonical(items[i])
    const j = seen.get(key)
    if (j !== undefined) found = [i, j]
    seen.set(key, i)
  }
  return found
}
