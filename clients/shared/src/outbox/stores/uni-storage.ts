// The store of the WeChat mini-program and the native app: the items in
// uni storage (setStorageSync: written when it returns), the files saved
// out of the temp folder, which the system empties after a restart.
import { isWeChat, storage } from '../../platform'
import { FileMissingError, type CacheEntry, type OutboxItem, type OutboxStore } from '../types'

declare const wx: {
  env: { USER_DATA_PATH: string }
  getFileSystemManager(): WeChatFileSystem
}

type Callbacks = { success?(): void; fail?(error: { errMsg?: string }): void }
interface WeChatFileSystem {
  saveFile(options: { tempFilePath: string; filePath: string } & Callbacks): void
  copyFile(options: { srcPath: string; destPath: string } & Callbacks): void
  unlink(options: { filePath: string } & Callbacks): void
  accessSync(path: string): void
}

type UniFiles = {
  saveFile(options: { tempFilePath: string; success?(result: { savedFilePath: string }): void; fail?(error: { errMsg?: string }): void }): void
  getSavedFileInfo?(options: { filePath: string; success?(): void; fail?(): void }): void
  removeSavedFile?(options: { filePath: string; success?(): void; fail?(): void }): void
}

function failure(action: string) {
  return (error?: { errMsg?: string }) => new Error(`${action}: ${error?.errMsg ?? 'fail'}`)
}

/** The extension of the file's name (or path), with its dot */
function extension(name: string, path: string): string {
  const match = /\.[A-Za-z0-9]{1,8}$/.exec(name) ?? /\.[A-Za-z0-9]{1,8}$/.exec(path)
  return match ? match[0].toLowerCase() : ''
}

export class UniStorageStore implements OutboxStore {
  /** `prefix` of the storage keys and saved file names */
  constructor(readonly prefix = 'outbox') {}

  private get itemsKey(): string {
    return `${this.prefix}:items`
  }

  private cacheKey(key: string): string {
    return `${this.prefix}:cache:${key}`
  }

  private all(): OutboxItem[] {
    return storage.get<OutboxItem[]>(this.itemsKey) ?? []
  }

  async loadItems(): Promise<OutboxItem[]> {
    return this.all()
  }

  // Every item under one key: a write is whole or not at all
  async putItem(item: OutboxItem): Promise<void> {
    const items = this.all()
    const index = items.findIndex((other) => other.id === item.id)
    if (index < 0) items.push(item)
    else items[index] = item
    storage.set(this.itemsKey, items)
  }

  async deleteItem(id: string): Promise<void> {
    storage.set(this.itemsKey, this.all().filter((item) => item.id !== id))
  }

  async keepFile(id: string, localPath: string, name: string): Promise<{ stored: string; localPath: string }> {
    const saved = isWeChat()
      ? await this.saveWeChat(localPath, `${wx.env.USER_DATA_PATH}/${this.prefix}-${id}${extension(name, localPath)}`)
      : await this.saveUni(localPath)
    return { stored: saved, localPath: saved }
  }

  /** Into the mini-program's user folder (200 MB), under a name of ours; a
   * file that is no temp file (already saved) is copied */
  private saveWeChat(localPath: string, filePath: string): Promise<string> {
    const files = wx.getFileSystemManager()
    return new Promise((resolve, reject) => {
      files.saveFile({
        tempFilePath: localPath,
        filePath,
        success: () => resolve(filePath),
        fail: () => files.copyFile({
          srcPath: localPath,
          destPath: filePath,
          success: () => resolve(filePath),
          fail: (error) => reject(failure('saveFile')(error)),
        }),
      })
    })
  }

  /** The app's saved files (_doc/uniapp_save) */
  private saveUni(localPath: string): Promise<string> {
    return new Promise((resolve, reject) => {
      (uni as unknown as UniFiles).saveFile({
        tempFilePath: localPath,
        success: ({ savedFilePath }) => resolve(savedFilePath),
        fail: (error) => reject(failure('saveFile')(error)),
      })
    })
  }

  private async exists(path: string): Promise<boolean> {
    if (isWeChat()) {
      try {
        wx.getFileSystemManager().accessSync(path)
        return true
      } catch {
        return false
      }
    }
    const info = (uni as unknown as UniFiles).getSavedFileInfo
    if (!info) return true
    return new Promise((resolve) => {
      info({ filePath: path, success: () => resolve(true), fail: () => resolve(false) })
    })
  }

  async openFile(stored: string): Promise<{ path: string; release(): void }> {
    if (!(await this.exists(stored))) throw new FileMissingError(stored)
    return { path: stored, release() {} }
  }

  async deleteFile(stored: string): Promise<void> {
    // A file already gone is what was wanted
    await new Promise<void>((resolve) => {
      if (isWeChat()) {
        wx.getFileSystemManager().unlink({ filePath: stored, success: resolve, fail: () => resolve() })
        return
      }
      const remove = (uni as unknown as UniFiles).removeSavedFile
      if (!remove) return resolve()
      remove({ filePath: stored, success: resolve, fail: () => resolve() })
    })
  }

  async getCached(key: string): Promise<CacheEntry | undefined> {
    return storage.get<CacheEntry>(this.cacheKey(key)) ?? undefined
  }

  async setCached(key: string, entry: CacheEntry): Promise<void> {
    storage.set(this.cacheKey(key), entry)
  }

  async deleteCached(key: string): Promise<void> {
    storage.remove(this.cacheKey(key))
  }

  async clearCached(): Promise<void> {
    const prefix = this.cacheKey('')
    const keys = (uni.getStorageInfoSync?.().keys ?? []) as string[]
    for (const key of keys) {
      if (key.startsWith(prefix)) storage.remove(key)
    }
  }
}
