import * as esbuild from 'esbuild'
const m = await import(process.cwd() + '/scripts/build-cli.ts')
const r = await esbuild.build(await m.cliBuildOptions({ problems: [], patched: new Set() }))
const want = process.argv.slice(2)
for (const [f, o] of Object.entries(r.metafile.outputs)) {
  const n = f.replace(/.*\//, '')
  if (want.length && !want.includes(n)) continue
  const pk = new Map()
  for (const [inp, v] of Object.entries(o.inputs)) { const i = inp.lastIndexOf('node_modules/'); const k = i < 0 ? inp : inp.slice(i + 13).split('/').slice(0, inp.slice(i+13).startsWith('@') ? 2 : 1).join('/'); pk.set(k, (pk.get(k) ?? 0) + v.bytesInOutput) }
  console.log(n, o.bytes, [...pk].sort((a, b) => b[1] - a[1]).slice(0,12).map(([k, v]) => `${k}:${v}`).join(' '))
}
