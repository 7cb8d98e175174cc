// Photos and documents of a step: chosen on the phone, checked against what
// the server takes (GET /config uploads: types, 10 MB), photos made small
// before they go into the outbox (a 4 MB phone photo leaves as ≤ 600 KB).
//
// Making a photo small is a ladder of (longest side, JPEG quality) tried in
// turn until the file is small enough: on H5 a canvas (the browser applies
// the photo's EXIF orientation when it decodes it), on WeChat and in the app
// uni.compressImage. A photo that cannot be decoded here (HEIC in most
// browsers) goes as it is: the server converts it.
import type { Schemas } from '@instrument/shared'
import { platform } from '@/utils/platform'

export type Uploads = Schemas['ClientConfig']['uploads']
export type UploadKind = 'photo' | 'file'

/** A file chosen on the phone */
export interface Picked {
  path: string
  name: string
  size: number
  /** The content type, when the platform tells it (H5) */
  type?: string
  width?: number
  height?: number
}

export const TARGET_BYTES = 600 * 1024
/** Longest side, then JPEG quality, tried in turn */
export const LADDER: ReadonlyArray<{ side: number; quality: number }> = [
  { side: 1600, quality: 0.82 },
  { side: 1600, quality: 0.7 },
  { side: 1280, quality: 0.62 },
  { side: 1024, quality: 0.55 },
  { side: 800, quality: 0.5 },
]

function extension(name: string): string {
  const match = /\.([a-z0-9]+)$/i.exec(name.split(/[?#]/)[0])
  return match ? match[1].toLowerCase() : ''
}

/** A photo, a document the server takes, or neither */
export function kindOf(file: Pick<Picked, 'name' | 'type'>, uploads: Uploads): UploadKind | null {
  const ext = extension(file.name)
  const type = (file.type ?? '').toLowerCase()
  if (uploads.photo_extensions.includes(ext) || (type && uploads.photo_types.includes(type))) return 'photo'
  if (uploads.document_extensions.includes(ext) || (type && uploads.document_types.includes(type))) return 'file'
  return null
}

export type Verdict =
  | { ok: true; kind: UploadKind; shrink: boolean }
  | { ok: false; problem: 'type' | 'size' }

/** Whether a chosen file may go into a field taking `accept` (photos only,
 * or photos and documents), and whether it is made small first */
export function verdict(file: Picked, accept: 'images' | 'files', uploads: Uploads): Verdict {
  const kind = kindOf(file, uploads)
  if (!kind || (accept === 'images' && kind !== 'photo')) return { ok: false, problem: 'type' }
  if (kind === 'file') return file.size > uploads.max_size ? { ok: false, problem: 'size' } : { ok: true, kind, shrink: false }
  return { ok: true, kind, shrink: file.size > TARGET_BYTES }
}

/** width × height with the longest side at most `side` */
export function scaled(width: number, height: number, side: number): { width: number; height: number } {
  const longest = Math.max(width, height)
  if (longest <= side) return { width, height }
  return { width: Math.round((width * side) / longest), height: Math.round((height * side) / longest) }
}

/** Climbs the ladder with `encode` until a result is at most `target`
 * bytes; the last (smallest) one otherwise */
export async function climb<T extends { size: number }>(
  encode: (step: { side: number; quality: number }) => Promise<T>,
  target = TARGET_BYTES,
): Promise<T> {
  let result: T | undefined
  for (const step of LADDER) {
    result = await encode(step)
    if (result.size <= target) break
  }
  return result!
}

function asJpegName(name: string): string {
  return name.replace(/\.[a-z0-9]+$/i, '') + '.jpg'
}

// H5: a canvas

async function decode(path: string): Promise<{ source: CanvasImageSource; width: number; height: number; close(): void }> {
  if (typeof createImageBitmap === 'function') {
    const blob = await (await fetch(path)).blob()
    const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' })
    return { source: bitmap, width: bitmap.width, height: bitmap.height, close: () => bitmap.close() }
  }
  const image = await new Promise<HTMLImageElement>((resolve, reject) => {
    const element = new Image()
    element.onload = () => resolve(element)
    element.onerror = () => reject(new Error('decode'))
    element.src = path
  })
  return { source: image, width: image.naturalWidth, height: image.naturalHeight, close: () => undefined }
}

async function shrinkOnCanvas(file: Picked): Promise<Picked> {
  const image = await decode(file.path)
  try {
    const blob = await climb(({ side, quality }) => {
      const { width, height } = scaled(image.width, image.height, side)
      const canvas = document.createElement('canvas')
      canvas.width = width
      canvas.height = height
      const context = canvas.getContext('2d')!
      // JPEG has no transparency: white under a PNG's
      context.fillStyle = '#fff'
      context.fillRect(0, 0, width, height)
      context.drawImage(image.source, 0, 0, width, height)
      return new Promise<Blob>((resolve, reject) =>
        canvas.toBlob((made) => (made ? resolve(made) : reject(new Error('encode'))), 'image/jpeg', quality))
    })
    return { path: URL.createObjectURL(blob), name: asJpegName(file.name), size: blob.size, type: 'image/jpeg' }
  } finally {
    image.close()
  }
}

// WeChat and the app: uni.compressImage

function call<T>(run: (success: (value: T) => void, fail: (error: unknown) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run(resolve, reject))
}

async function shrinkNatively(file: Picked): Promise<Picked> {
  const size = file.width && file.height
    ? { width: file.width, height: file.height }
    : await call<{ width: number; height: number }>((success, fail) => uni.getImageInfo({ src: file.path, success, fail }))
  return climb(async ({ side, quality }) => {
    const { width } = scaled(size.width, size.height, side)
    const path = await call<string>((success, fail) => uni.compressImage({
      src: file.path,
      quality: Math.round(quality * 100),
      compressedWidth: width,
      success: (result: { tempFilePath: string }) => success(result.tempFilePath),
      fail,
    } as UniApp.CompressImageOptions))
    const bytes = await call<number>((success, fail) => uni.getFileInfo({
      filePath: path, success: (result) => success(result.size), fail,
    }))
    return { path, name: asJpegName(file.name), size: bytes, type: 'image/jpeg' }
  })
}

/** The photo made small (≤ TARGET_BYTES when it can be); as it is when it
 * cannot be decoded here or would not get smaller */
export async function shrinkPhoto(file: Picked): Promise<Picked> {
  try {
    const small = platform() === 'h5' ? await shrinkOnCanvas(file) : await shrinkNatively(file)
    return small.size < file.size ? small : file
  } catch {
    return file
  }
}

// Choosing

function nameOf(path: string): string {
  return path.split(/[\\/]/).pop() ?? path
}

/** A cancel is no file, not an error */
function chosen<T>(run: (resolve: (files: T[]) => void, reject: (error: unknown) => void) => void): Promise<T[]> {
  return new Promise((resolve, reject) => run(resolve, (error) => {
    const message = String((error as { errMsg?: string })?.errMsg ?? error ?? '')
    if (/cancel/i.test(message)) resolve([])
    else reject(error)
  }))
}

function fromTempFiles(tempFiles: unknown): Picked[] {
  const files = (Array.isArray(tempFiles) ? tempFiles : [tempFiles]) as Array<{ path: string; size: number; name?: string; type?: string }>
  return files.map((file) => ({ path: file.path, name: file.name ?? nameOf(file.path), size: file.size, type: file.type }))
}

type ChooseMedia = (options: Record<string, unknown>) => void

/** Camera or album: chooseMedia where there is one (WeChat, the app),
 * chooseImage on H5 */
export function pickPhotos(count: number): Promise<Picked[]> {
  const chooseMedia = (uni as unknown as { chooseMedia?: ChooseMedia }).chooseMedia
  if (platform() !== 'h5' && typeof chooseMedia === 'function') {
    return chosen((resolve, reject) => chooseMedia({
      count,
      mediaType: ['image'],
      sourceType: ['camera', 'album'],
      // WeChat's own first pass; the ladder finishes it
      sizeType: ['compressed'],
      success: (result: { tempFiles: Array<{ tempFilePath: string; size: number; width?: number; height?: number }> }) =>
        resolve(result.tempFiles.map((file) => ({
          path: file.tempFilePath, name: nameOf(file.tempFilePath), size: file.size, width: file.width, height: file.height,
        }))),
      fail: reject,
    }))
  }
  return chosen((resolve, reject) => uni.chooseImage({
    count,
    sourceType: ['camera', 'album'],
    sizeType: ['original'],
    success: (result) => resolve(fromTempFiles(result.tempFiles)),
    fail: reject,
  }))
}

interface WxFiles {
  chooseMessageFile(options: {
    count: number
    type: 'file'
    extension?: string[]
    success(result: { tempFiles: Array<{ path: string; size: number; name: string }> }): void
    fail(error: unknown): void
  }): void
}
declare const wx: WxFiles

/** Documents: from a WeChat chat (wx.chooseMessageFile), the browser's file
 * picker on H5; the app has no document picker (null) */
export function pickDocuments(count: number, extensions: string[]): Promise<Picked[]> | null {
  const where = platform()
  if (where === 'mp-weixin') {
    return chosen((resolve, reject) => wx.chooseMessageFile({
      count, type: 'file', extension: extensions,
      success: (result) => resolve(result.tempFiles.map((file) => ({ path: file.path, name: file.name, size: file.size }))),
      fail: reject,
    }))
  }
  if (where === 'app') return null
  return chosen((resolve, reject) => uni.chooseFile({
    count,
    type: 'all',
    extension: extensions.map((ext) => '.' + ext),
    success: (result) => resolve(fromTempFiles(result.tempFiles)),
    fail: reject,
  }))
}
