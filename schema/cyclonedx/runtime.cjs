'use strict'
/**
 * Run-time helpers of the compiled CycloneDX JSON validators next to this file (validate-1.x.cjs, made by
 * scripts/gen-cdx-validators.ts with ajv's standalone code generation).
 *
 * - `formats`: the formats the CycloneDX library's validator installs (ajv-formats' full set, and
 *   idn-email from ajv-formats-draft2019, loaded when first used; iri-reference is `true`, i.e. unchecked,
 *   and needs no code).
 * - `duplicateOf`: `uniqueItems` by Maps of shallow, then canonical JSON keys, linear in the array, instead of ajv's
 *   pairwise deep comparison (quadratic: 182 ms of a 2,203-package SBOM's check). Hand-written because
 *   ajv offers no hashed variant. It reports the same pair ajv's own check reports: the last item that
 *   repeats an earlier one (i), and the last earlier copy of it (j).
 */
const { fullFormats } = require('ajv-formats/dist/formats')

// idn-email's parser (a nearley grammar, with the rest of draft2019's formats behind its index) is loaded
// the first time an e-mail address is checked: most SBOMs have none, and every run paid for it
let idnEmail
exports.formats = {
  ...fullFormats,
  'idn-email': (value) => {
    idnEmail ??= require('ajv-formats-draft2019/formats/idn-email')
    return idnEmail(value)
  },
}

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

/**
 * A cheap key that equal items always share: an object's sorted keys with its string, number, boolean and
 * null values, and only the type and size of its nested objects and arrays. Items with different keys are
 * unequal; only items that share one are compared by their canonical JSON (components differ by bom-ref,
 * so a 20,000-component SBOM needs no canonical JSON at all).
 */
function shallow(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'u'
  if (Array.isArray(value)) return `[${value.length}`
  const keys = Object.keys(value).sort()
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const v = value[keys[i]]
    out += `${JSON.stringify(keys[i])}:${
      v === null || typeof v !== 'object'
        ? JSON.stringify(v)
        : Array.isArray(v)
          ? `[${v.length}`
          : `{${Object.keys(v).length}`
    },`
  }
  return out
}

/** `[i, j]` (j < i, both as large as possible) when items i and j are equal, else undefined. */
exports.duplicateOf = function duplicateOf(items) {
  // shallow key -> the index of its only item so far, or a Map of canonical key -> last index
  const seen = new Map()
  let found
  for (let i = 0; i < items.length; i++) {
    const key = shallow(items[i])
    const prior = seen.get(key)
    if (prior === undefined) {
      seen.set(key, i)
      continue
    }
    let exact = prior
    if (typeof prior === 'number') {
      exact = new Map([[canonical(items[prior]), prior]])
      seen.set(key, exact)
    }
    const full = canonical(items[i])
    const j = exact.get(full)
    if (j !== undefined) found = [i, j]
    exact.set(full, i)
  }
  return found
}
