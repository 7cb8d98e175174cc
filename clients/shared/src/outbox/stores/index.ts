// The store of this platform: IndexedDB on H5, uni storage and saved
// files in the WeChat mini-program and the native app, memory elsewhere
import { isWeChat } from '../../platform'
import type { OutboxStore } from '../types'
import { IndexedDbStore } from './indexeddb'
import { MemoryStore } from './memory'
import { UniStorageStore } from './uni-storage'

export { IndexedDbStore, MemoryStore, UniStorageStore }

declare const process: { env: Record<string, string | undefined> }

/** The platform of the uni build (replaced at build time), if known */
function uniPlatform(): string | undefined {
  try {
    return process.env.UNI_PLATFORM
  } catch {
    return undefined
  }
}

/** `name`: the database or storage prefix (one per app) */
export function defaultStore(name = 'instrument-outbox'): OutboxStore {
  const platform = uniPlatform()
  if (isWeChat()) return new UniStorageStore(name)
  if ((platform === undefined || platform === 'h5') && typeof indexedDB !== 'undefined') {
    return new IndexedDbStore(name)
  }
  if (platform === 'app' || platform === 'app-plus'
      || (typeof uni !== 'undefined' && typeof (uni as { saveFile?: unknown }).saveFile === 'function')) {
    return new UniStorageStore(name)
  }
  return new MemoryStore()
}
