// The outbox and the offline cache of this phone (@instrument/shared's):
// one of each for the app, kept in the platform's store (IndexedDB on H5,
// uni storage and saved files elsewhere). Tests put in their own store.
import {
  createOfflineCache, createOutbox, defaultStore,
  type OfflineCache, type Outbox, type OutboxStore,
} from '@instrument/shared'
import { api } from './api'

interface Offline {
  store: OutboxStore
  outbox: Outbox
  cache: OfflineCache
}

let current: Offline | null = null

function make(store: OutboxStore): Offline {
  return { store, outbox: createOutbox({ api, store }), cache: createOfflineCache(store) }
}

export function offline(): Offline {
  if (!current) current = make(defaultStore())
  return current
}

/** Tests: start again on this store (a MemoryStore), as after a restart */
export function useOfflineStore(store: OutboxStore): Offline {
  current?.outbox.stop()
  current = make(store)
  return current
}
