// A store in memory (tests, and a platform with nothing better): what it
// keeps lives as long as the object, which a new outbox may load again.
import { FileMissingError, type CacheEntry, type OutboxItem, type OutboxStore } from '../types'

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

export class MemoryStore implements OutboxStore {
  /** Kept as copies, as a real store keeps them */
  readonly items = new Map<string, OutboxItem>()
  /** Stored reference → the path it stands for */
  readonly files = new Map<string, string>()
  readonly cache = new Map<string, CacheEntry>()

  async loadItems(): Promise<OutboxItem[]> {
    return [...this.items.values()].map(copy)
  }

  async putItem(item: OutboxItem): Promise<void> {
    this.items.set(item.id, copy(item))
  }

  async deleteItem(id: string): Promise<void> {
    this.items.delete(id)
  }

  async keepFile(id: string, localPath: string): Promise<{ stored: string; localPath: string }> {
    const stored = 'memory:' + id
    this.files.set(stored, localPath)
    return { stored, localPath }
  }

  async openFile(stored: string): Promise<{ path: string; release(): void }> {
    const path = this.files.get(stored)
    if (path === undefined) throw new FileMissingError(stored)
    return { path, release() {} }
  }

  async deleteFile(stored: string): Promise<void> {
    this.files.delete(stored)
  }

  async getCached(key: string): Promise<CacheEntry | undefined> {
    const entry = this.cache.get(key)
    return entry && copy(entry)
  }

  async setCached(key: string, entry: CacheEntry): Promise<void> {
    this.cache.set(key, copy(entry))
  }

  async deleteCached(key: string): Promise<void> {
    this.cache.delete(key)
  }

  async clearCached(): Promise<void> {
    this.cache.clear()
  }
}
