/**
 * Edge (threads): a small pool of worker threads (export-worker.ts) that inflate and summarise the
 * batches of an offline OSV export, sized by the machine (`os.availableParallelism()`, at most
 * MaxExportThreads). A worker that cannot start — the GitHub Action is one bundled file, without
 * worker files — or that stops, hands its batches back: they run in this thread, with the same result
 * (offline-batch.ts is the one code both run). A batch is kept until its result arrives for that.
 */
import os from 'node:os'
import { Worker } from 'node:worker_threads'
import { type BatchResult, type BatchSetup, type ExportBatch, processBatch } from './offline-batch.ts'

/** Smallest buffer made for a worker's copy (the loader's batches are at most this, but for one large entry). */
const COPY_BYTES = 512 * 1024

/** More threads than this only contend for the file and the main thread's merging. */
export const MaxExportThreads = 4

/** Worker threads worth starting on this machine (1: none, everything in this thread). */
export function exportThreads(): number {
  return Math.max(1, Math.min(os.availableParallelism(), MaxExportThreads))
}

/** The worker's file next to this one (`.ts` when run from source, `.js` when compiled or bundled). */
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './export-worker.ts' : './export-worker.js',
  import.meta.url,
)

interface Pending {
  batch: ExportBatch
  resolve: (r: BatchResult) => void
  reject: (e: unknown) => void
}

/** Copies for the workers are reused (they come back with the result), up to this many. */
const MAX_SPARE_COPIES = 16

interface Slot {
  worker: Worker
  pending: Map<number, Pending>
  dead: boolean
}

export class ExportPool {
  private readonly slots: Slot[] = []
  private nextId = 0
  private readonly setup: BatchSetup
  /** batches this thread ran itself (no worker could) */
  inThread = 0
  /** buffers the workers handed back, for the next copies */
  private readonly copies: ArrayBuffer[] = []

  /**
   * @param threads worker threads to start (0: none)
   * @param url the worker's module (tests point it at a missing file to exercise the fallback)
   */
  constructor(setup: BatchSetup, threads: number, url: URL = WORKER_URL) {
    this.setup = setup
    for (let i = 0; i < threads; i++) {
      let worker: Worker
      try {
        worker = new Worker(url, { workerData: setup, resourceLimits: { maxYoungGenerationSizeMb: 8 } })
      } catch {
        continue
      }
      const slot: Slot = { worker, pending: new Map(), dead: false }
      worker.on('message', (m: { id: number; result?: BatchResult; failed?: string; back?: ArrayBuffer }) => {
        if (m.back !== undefined && this.copies.length < MAX_SPARE_COPIES) this.copies.push(m.back)
        const p = slot.pending.get(m.id)
        if (!p) return
        slot.pending.delete(m.id)
        if (m.result !== undefined) p.resolve(m.result)
        // not an input problem: this thread runs it again, and throws whatever it throws
        else this.settleHere(p)
      })
      const down = (): void => {
        if (slot.dead) return
        slot.dead = true
        for (const p of slot.pending.values()) this.settleHere(p)
        slot.pending.clear()
        void worker.terminate()
      }
      worker.on('error', down)
      worker.on('exit', down)
      this.slots.push(slot)
    }
  }

  /** The batch's result, from the least busy worker, or from this thread when no worker is up. */
  run(batch: ExportBatch): Promise<BatchResult> {
    let best: Slot | null = null
    for (const s of this.slots) if (!s.dead && (best === null || s.pending.size < best.pending.size)) best = s
    if (best === null) {
      try {
        return Promise.resolve(this.here(batch))
      } catch (e) {
        return Promise.reject(e)
      }
    }
    const slot = best
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      slot.pending.set(id, { batch, resolve, reject })
      // the worker gets its own copy, moved rather than cloned (far cheaper); this one stays for a
      // fallback. The copy's buffer comes back with the result and is used again: a new one per batch
      // is garbage that only a full collection frees.
      const n = batch.data.byteLength
      let buffer = this.copies.pop()
      if (buffer === undefined || buffer.byteLength < n) buffer = new ArrayBuffer(Math.max(n, COPY_BYTES))
      const data = new Uint8Array(buffer, 0, n)
      data.set(batch.data)
      slot.worker.postMessage({ id, batch: { ...batch, data } }, [buffer])
    })
  }

  async close(): Promise<void> {
    const stopping = this.slots.map((s) => {
      s.dead = true
      return s.worker.terminate()
    })
    await Promise.allSettled(stopping)
  }

  private here(batch: ExportBatch): BatchResult {
    this.inThread++
    return processBatch(this.setup, batch, false)
  }

  private settleHere(p: Pending): void {
    try {
      p.resolve(this.here(p.batch))
    } catch (e) {
      p.reject(e)
    }
  }
}
