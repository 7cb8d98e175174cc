// The read side of working offline: the task list and every task opened,
// kept in the outbox's store and served when the network is not there.
import { ApiError } from '../api/client'
import type { CacheEntry, OutboxStore } from './types'

export interface CachedRead<T> {
  value: T
  /** When it came from the server (ms) */
  savedAt: number
  /** false: the server's answer now; true: the copy kept, the server out of reach */
  stale: boolean
}

export interface OfflineCache {
  get<T>(key: string): Promise<T | undefined>
  /** The value with the time it was kept */
  entry<T>(key: string): Promise<CacheEntry<T> | undefined>
  set(key: string, value: unknown): Promise<void>
  remove(key: string): Promise<void>
  /** Forget everything (at logout: tasks hold customers' data) */
  clear(): Promise<void>
  /** The server's answer, kept for later; when the server cannot be
   * reached (no network, 5xx), the copy kept, if any (else the error) */
  read<T>(key: string, load: () => Promise<T>): Promise<CachedRead<T>>
}

/** Failures that say nothing about the data: the copy kept stands */
function unreachable(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 0 || error.status >= 500)
}

/** Keys: `tasks` (or one per filter), `task:<id>`, as the app chooses */
export function createOfflineCache(store: OutboxStore, options: { now?(): number } = {}): OfflineCache {
  const now = options.now ?? (() => Date.now())
  const cache: OfflineCache = {
    async get<T>(key: string) {
      return (await store.getCached(key))?.value as T | undefined
    },
    async entry<T>(key: string) {
      return (await store.getCached(key)) as CacheEntry<T> | undefined
    },
    set: (key, value) => store.setCached(key, { value, savedAt: now() }),
    remove: (key) => store.deleteCached(key),
    clear: () => store.clearCached(),
    async read<T>(key: string, load: () => Promise<T>) {
      try {
        const value = await load()
        const savedAt = now()
        try {
          await store.setCached(key, { value, savedAt })
        } catch (error) {
          // A full store must not hide the answer from the engineer
          console.warn('offline cache: not kept', key, error)
        }
        return { value, savedAt, stale: false }
      } catch (error) {
        if (!unreachable(error)) throw error
        const kept = await store.getCached(key)
        if (!kept) throw error
        return { value: kept.value as T, savedAt: kept.savedAt, stale: true }
      }
    },
  }
  return cache
}
