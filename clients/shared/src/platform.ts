// What differs between WeChat, H5 and the app: which one this is, local
// storage, and the files of the API (which need the token to download).
import type { Client, Schemas } from './api/client'
import { ApiError } from './api/client'
import { currentI18n } from './i18n'

declare const wx: unknown
declare const process: { env: Record<string, string | undefined> }

/** The WeChat mini-program build: uni replaces process.env.UNI_PLATFORM at
 * build time; a bundle without it tells by the globals (wx, no window) */
export function isWeChat(): boolean {
  try {
    if (process.env.UNI_PLATFORM) return process.env.UNI_PLATFORM === 'mp-weixin'
  } catch {
    // No process: not a uni build (tests, a plain bundle)
  }
  return typeof wx !== 'undefined' && typeof window === 'undefined'
}

/** Local storage of JSON values (uni storage: localStorage on H5, the
 * mini-program's storage on WeChat) */
export const storage = {
  get<T>(key: string): T | null {
    try {
      const text = uni.getStorageSync(key)
      if (text === '' || text === undefined || text === null) return null
      return (typeof text === 'string' ? JSON.parse(text) : text) as T
    } catch {
      return null
    }
  },
  set(key: string, value: unknown): void {
    uni.setStorageSync(key, JSON.stringify(value))
  },
  remove(key: string): void {
    uni.removeStorageSync(key)
  },
}

// Downloads already made: file id + token → local path or blob URL
const downloaded = new Map<string, Promise<string>>()

type FileRef = Pick<Schemas['File'], 'id' | 'url'> & Partial<Pick<Schemas['File'], 'thumbnail_url'>>

function cacheKey(client: Client, path: string): string {
  return path + '\n' + (client.headers().Authorization ?? '')
}

function download(client: Client, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    uni.downloadFile({
      url: client.url(path),
      header: client.headers(),
      success: (res) => {
        if (res.statusCode >= 200 && res.statusCode < 300) {
          resolve(res.tempFilePath)
        } else {
          reject(new ApiError(res.statusCode, 'http_' + res.statusCode,
            currentI18n().t('files.open_failed')))
        }
      },
      fail: () => reject(new ApiError(0, 'network', currentI18n().t('error.network'))),
    })
  })
}

/** A URL the app can show or open for an API file: downloaded with the token
 * (uni.downloadFile: a temp path on WeChat, a blob URL on H5), once per file
 * and token. `thumbnail` takes the 320 px JPEG of a photo. */
export function fileUrl(client: Client, file: FileRef, options: { thumbnail?: boolean } = {}): Promise<string> {
  const path = options.thumbnail && file.thumbnail_url ? file.thumbnail_url : file.url
  const key = cacheKey(client, path)
  let url = downloaded.get(key)
  if (!url) {
    url = download(client, path)
    downloaded.set(key, url)
    // A failed download is tried again the next time
    url.catch(() => downloaded.delete(key))
  }
  return url
}

/** Forget the downloads (at logout: the next token downloads again) */
export function clearFileCache(): void {
  downloaded.clear()
}

export function isPhoto(file: Pick<Schemas['File'], 'mimetype'>): boolean {
  return file.mimetype === 'image/jpeg'
}

/** Show photos full size (uni.previewImage), starting at `current` */
export async function previewPhotos(client: Client, photos: FileRef[], current: FileRef): Promise<void> {
  const urls = await Promise.all(photos.map((photo) => fileUrl(client, photo)))
  const index = Math.max(0, photos.findIndex((photo) => photo.id === current.id))
  uni.previewImage({ urls, current: urls[index] })
}

/** Open a document: WeChat shows it (uni.openDocument); H5 opens the blob
 * URL in a new tab; the app opens it as WeChat does */
export async function openDocument(client: Client, file: Schemas['File']): Promise<void> {
  const url = await fileUrl(client, file)
  if (url.startsWith('blob:') && typeof window !== 'undefined') {
    window.open(url, '_blank')
    return
  }
  const fileType = file.name.split('.').pop()?.toLowerCase()
  await new Promise<void>((resolve, reject) => {
    uni.openDocument({
      filePath: url,
      ...(fileType ? { fileType } : {}),
      showMenu: true,
      success: () => resolve(),
      fail: () => reject(new ApiError(0, 'open_failed', currentI18n().t('files.open_failed'))),
    } as UniApp.OpenDocumentOptions)
  })
}
