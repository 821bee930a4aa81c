/** Locale-free comparison by UTF-16 code unit; never use a bare localeCompare for output order. */
export function compareCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

const EN_US = new Intl.Collator('en-US')

/**
 * The CycloneDX library's list order (its `localeCompare`), pinned to en-US: a bare localeCompare follows
 * the machine's locale (under da_DK "aa" sorts after "z"), so output would differ between machines.
 */
export function compareEnUs(a: string, b: string): number {
  return EN_US.compare(a, b)
}

/** A comparator that orders items by the string key `key(item)`. */
export function byKey<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => compareCodePoint(key(a), key(b))
}

/** Sorted copy of unique strings. */
export function uniqueSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareCodePoint)
}
