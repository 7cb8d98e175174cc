// Photos and documents of a step: chosen on the phone, checked against what
// the server takes (GET /config uploads: types, 10 MB), photos made small
// before they go into the outbox (a 4 MB phone photo leaves as ≤ 600 KB).
//
// Making a photo small is a ladder of (longest side, JPEG quality) tried in
// turn until the file is small enough: on H5 a canvas (the browser applies
// the photo's EXIF orientation when it decodes it), on WeChat and in the app
// uni.compressImage. A photo that cannot be decoded here (HEIC in most
// browsers) goes as it is: the server converts it.
import {
  LADDER, TARGET_BYTES, climb, extensionOf, scaled, shrinkPhoto as shrink, type Picked, type Uploads,
} from '@instrument/shared'
import { platform } from '@/utils/platform'

export { LADDER, TARGET_BYTES, climb, scaled }
export type { Picked, Uploads }
export type UploadKind = 'photo' | 'file'

/** A photo, a document the server takes, or neither */
export function kindOf(file: Pick<Picked, 'name' | 'type'>, uploads: Uploads): UploadKind | null {
  const ext = extensionOf(file.name)
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

/** The photo made small (≤ TARGET_BYTES when it can be): on a canvas on
 * H5, uni.compressImage elsewhere; as it is when it cannot be decoded here
 * or would not get smaller */
export function shrinkPhoto(file: Picked): Promise<Picked> {
  return shrink(file, { canvas: platform() === 'h5' })
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
