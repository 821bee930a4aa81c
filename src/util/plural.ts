/** A count with its noun in the right number: `1 component`, `2 components`, `0 components`. Pure. */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : pluralForm}`
}
