// The offline cache: what was read last is served when the server is out
// of reach, and only then.
import { describe, expect, it } from 'vitest'
import { ApiError } from '../src/api/client'
import { createOfflineCache, MemoryStore } from '../src/outbox'

describe('createOfflineCache', () => {
  it('keeps each answer and serves it when the network is gone', async () => {
    let clock = 1000
    const store = new MemoryStore()
    const cache = createOfflineCache(store, { now: () => clock })
    const fresh = await cache.read('task:7', async () => ({ id: 7, state: 'in_progress' }))
    expect(fresh).toEqual({ value: { id: 7, state: 'in_progress' }, savedAt: 1000, stale: false })

    clock = 5000
    // A new start of the app, offline
    const offline = createOfflineCache(store, { now: () => clock })
    const kept = await offline.read('task:7', async () => { throw new ApiError(0, 'network', 'No connection') })
    expect(kept).toEqual({ value: { id: 7, state: 'in_progress' }, savedAt: 1000, stale: true })
    const busy = await offline.read('task:7', async () => { throw new ApiError(503, 'database_unavailable', 'Busy') })
    expect(busy.stale).toBe(true)
  })

  it('does not hide an answer that says something about the data', async () => {
    const cache = createOfflineCache(new MemoryStore())
    await cache.set('task:7', { id: 7 })
    const gone = new ApiError(404, 'not_found', 'No such task')
    await expect(cache.read('task:7', async () => { throw gone })).rejects.toBe(gone)
    const offline = new ApiError(0, 'network', 'No connection')
    await expect(cache.read('task:8', async () => { throw offline })).rejects.toBe(offline)
  })
})
