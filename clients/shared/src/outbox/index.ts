// The offline outbox and offline cache of the engineer app
export * from './types'
export { createOutbox, backoff, retryable, FIRST_BACKOFF, MAX_BACKOFF } from './outbox'
export { createOfflineCache, type OfflineCache, type CachedRead } from './cache'
export { outboxMessages, type OutboxMessageKey } from './messages'
export { networkOnline, watchNetwork } from './network'
export { defaultStore, IndexedDbStore, MemoryStore, UniStorageStore } from './stores'
