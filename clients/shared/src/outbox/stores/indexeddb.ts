// The store of H5: IndexedDB. The bytes of photos and files are kept as
// Blobs in the database itself: the blob: URL a photo was chosen or
// compressed to dies with the page, so a reload would lose it.
import { FileMissingError, type CacheEntry, type OutboxItem, type OutboxStore } from '../types'

const VERSION = 1
const ITEMS = 'items'
const FILES = 'files'
const CACHE = 'cache'

type KeptFile = { blob: Blob; name: string }

function done(request: IDBRequest): Promise<unknown> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

/** Resolves when the transaction is committed: durable from then on */
function committed(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve()
    transaction.onerror = () => reject(transaction.error)
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'))
  })
}

/** The bytes behind a path the page can read: blob:, data:, http(s) */
async function bytesOf(localPath: string): Promise<Blob> {
  const response = await fetch(localPath)
  if (!response.ok) throw new FileMissingError(localPath)
  return response.blob()
}

export class IndexedDbStore implements OutboxStore {
  private readonly database: Promise<IDBDatabase>

  /** `name`: one database per app (and per user if the app wishes) */
  constructor(readonly name = 'instrument-outbox', factory: IDBFactory = indexedDB) {
    this.database = new Promise((resolve, reject) => {
      const request = factory.open(name, VERSION)
      request.onupgradeneeded = () => {
        const database = request.result
        if (!database.objectStoreNames.contains(ITEMS)) {
          database.createObjectStore(ITEMS, { keyPath: 'id' })
        }
        if (!database.objectStoreNames.contains(FILES)) database.createObjectStore(FILES)
        if (!database.objectStoreNames.contains(CACHE)) database.createObjectStore(CACHE)
      }
      request.onsuccess = () => {
        const database = request.result
        // Another tab opening a newer version: let it
        database.onversionchange = () => database.close()
        resolve(database)
      }
      request.onerror = () => reject(request.error)
      request.onblocked = () => reject(new Error('IndexedDB blocked by another tab'))
    })
    // Ask the browser not to evict the database under storage pressure
    // (granted to installed web apps): the outbox is the only copy
    const storage = typeof navigator !== 'undefined'
      ? (navigator as { storage?: { persist?(): Promise<boolean> } }).storage : undefined
    storage?.persist?.().catch(() => undefined)
  }

  private async read<T>(store: string, key?: IDBValidKey): Promise<T> {
    const database = await this.database
    const objects = database.transaction(store, 'readonly').objectStore(store)
    return (await done(key === undefined ? objects.getAll() : objects.get(key))) as T
  }

  private async write(store: string, change: (objects: IDBObjectStore) => void): Promise<void> {
    const database = await this.database
    const transaction = database.transaction(store, 'readwrite')
    change(transaction.objectStore(store))
    await committed(transaction)
  }

  loadItems(): Promise<OutboxItem[]> {
    return this.read<OutboxItem[]>(ITEMS)
  }

  putItem(item: OutboxItem): Promise<void> {
    // Plain data only: what the app passed may hold Vue proxies
    const copy = JSON.parse(JSON.stringify(item)) as OutboxItem
    return this.write(ITEMS, (items) => { items.put(copy) })
  }

  deleteItem(id: string): Promise<void> {
    return this.write(ITEMS, (items) => { items.delete(id) })
  }

  async keepFile(id: string, localPath: string, name: string): Promise<{ stored: string; localPath: string }> {
    const kept: KeptFile = { blob: await bytesOf(localPath), name }
    await this.write(FILES, (files) => { files.put(kept, id) })
    return { stored: id, localPath }
  }

  async openFile(stored: string): Promise<{ path: string; release(): void }> {
    const kept = await this.read<KeptFile | undefined>(FILES, stored)
    if (!kept) throw new FileMissingError(stored)
    // A fresh URL of this page for uni.uploadFile or an <image>
    const path = URL.createObjectURL(kept.blob)
    return { path, release: () => URL.revokeObjectURL(path) }
  }

  deleteFile(stored: string): Promise<void> {
    return this.write(FILES, (files) => { files.delete(stored) })
  }

  getCached(key: string): Promise<CacheEntry | undefined> {
    return this.read<CacheEntry | undefined>(CACHE, key)
  }

  setCached(key: string, entry: CacheEntry): Promise<void> {
    const copy = JSON.parse(JSON.stringify(entry)) as CacheEntry
    return this.write(CACHE, (cache) => { cache.put(copy, key) })
  }

  deleteCached(key: string): Promise<void> {
    return this.write(CACHE, (cache) => { cache.delete(key) })
  }

  clearCached(): Promise<void> {
    return this.write(CACHE, (cache) => { cache.clear() })
  }
}
