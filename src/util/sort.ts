/** Locale-free comparison by UTF-16 code unit; never use a bare localeCompare for output order. */
export function compareCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** A comparator that orders items by the string key `key(item)`. */
export function byKey<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => compareCodePoint(key(a), key(b))
}

/** Sorted copy of unique strings. */
export function uniqueSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareCodePoint)
}
