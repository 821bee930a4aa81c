/**
 * Worker thread (edge): inflates and summarises batches of an offline OSV export for offline-db.ts
 * (see offline-batch.ts). It reads no file and writes none: bytes come in, summaries go out.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { type BatchSetup, type ExportBatch, processBatch } from './offline-batch.ts'

const setup = workerData as BatchSetup

parentPort!.on('message', (m: { id: number; batch: ExportBatch }) => {
  // the batch's buffer goes back with the answer, for the next batch (nothing in the answer refers to it)
  const back = m.batch.data.buffer as ArrayBuffer
  try {
    const result = processBatch(setup, m.batch, true)
    parentPort!.postMessage({ id: m.id, result, back }, [back])
  } catch (e) {
    // not an input error (those are results): the loader runs the batch again in its own thread
    parentPort!.postMessage({ id: m.id, failed: e instanceof Error ? e.message : String(e), back }, [back])
  }
})
