// Photos are made small before they are sent: a 4 MB phone photo goes out
// as at most 600 KB. WeChat: chooseMedia's "compressed" size, then
// uni.compressImage while still too large. H5: drawn onto a canvas, at most
// 1600 px on the long side, as JPEG of quality 0.8 (lower if needed).
// What is accepted at all (type, 10 MB) is checked before anything is sent,
// from GET /config's uploads.
import { isWeChat, type Schemas } from '@instrument/shared'

export type Uploads = Schemas['ClientConfig']['uploads']

/** A file chosen on the phone */
export interface PickedFile {
  path: string
  name: string
  size: number
  /** The content type, when the platform says it (H5) */
  type?: string
  width?: number
  height?: number
}

export const TARGET_BYTES = 600 * 1024
export const MAX_SIDE = 1600
// Quality and longest side tried in turn until the photo is small enough
const STEPS: Array<[quality: number, side: number]> = [
  [0.8, MAX_SIDE], [0.7, MAX_SIDE], [0.6, 1280], [0.5, 1024],
]

export type Accept = 'images' | 'files'

export type Decision =
  | { send: true; kind: 'photo' | 'document'; compress: boolean }
  | { send: false; reason: 'type' | 'size' }

export function extensionOf(name: string): string {
  const match = /\.([A-Za-z0-9]+)$/.exec(name.split(/[?#]/)[0])
  return match ? match[1].toLowerCase() : ''
}

export function kindOf(file: Pick<PickedFile, 'name' | 'type'>, uploads: Uploads): 'photo' | 'document' | null {
  const extension = extensionOf(file.name)
  const type = (file.type ?? '').toLowerCase()
  if (uploads.photo_extensions.includes(extension) || (type && uploads.photo_types.includes(type))) {
    return 'photo'
  }
  if (uploads.document_extensions.includes(extension)
      || (type && uploads.document_types.includes(type))) {
    return 'document'
  }
  return null
}

/** Whether a chosen file can be sent, and whether it is compressed first:
 * the field takes it (photos only for an images field), a document is at
 * most max_size, a photo over TARGET_BYTES is compressed (and checked
 * against max_size after) */
export function decide(file: PickedFile, accept: Accept, uploads: Uploads): Decision {
  const kind = kindOf(file, uploads)
  if (!kind || (accept === 'images' && kind !== 'photo')) return { send: false, reason: 'type' }
  if (kind === 'document') {
    return file.size > uploads.max_size
      ? { send: false, reason: 'size' }
      : { send: true, kind, compress: false }
  }
  return { send: true, kind, compress: file.size > TARGET_BYTES }
}

/** The size of width × height with its long side at most `side` */
export function fitWithin(width: number, height: number, side = MAX_SIDE): { width: number; height: number } {
  const long = Math.max(width, height)
  if (long <= side) return { width, height }
  const ratio = side / long
  return { width: Math.round(width * ratio), height: Math.round(height * ratio) }
}

function jpegName(name: string): string {
  return name.replace(/\.[A-Za-z0-9]+$/, '') + '.jpg'
}

// H5: canvas

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image()
    image.onload = () => resolve(image)
    image.onerror = () => reject(new Error('image'))
    image.src = src
  })
}

function canvasBlob(image: HTMLImageElement, quality: number, side: number): Promise<Blob> {
  const { width, height } = fitWithin(image.naturalWidth, image.naturalHeight, side)
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const context = canvas.getContext('2d')!
  // JPEG has no transparency: a white background under a PNG's
  context.fillStyle = '#ffffff'
  context.fillRect(0, 0, width, height)
  context.drawImage(image, 0, 0, width, height)
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('canvas'))), 'image/jpeg', quality)
  })
}

async function compressOnCanvas(file: PickedFile): Promise<PickedFile> {
  const image = await loadImage(file.path)
  let blob: Blob | null = null
  for (const [quality, side] of STEPS) {
    blob = await canvasBlob(image, quality, side)
    if (blob.size <= TARGET_BYTES) break
  }
  return {
    path: URL.createObjectURL(blob!),
    name: jpegName(file.name),
    size: blob!.size,
    type: 'image/jpeg',
  }
}

// WeChat (and the app): uni.compressImage

function imageInfo(src: string): Promise<{ width: number; height: number }> {
  return new Promise((resolve, reject) => {
    uni.getImageInfo({ src, success: resolve, fail: reject })
  })
}

function fileSize(filePath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    uni.getFileInfo({ filePath, success: (res) => resolve(res.size), fail: reject })
  })
}

function compressImage(src: string, quality: number, width: number): Promise<string> {
  return new Promise((resolve, reject) => {
    uni.compressImage({
      src,
      quality: Math.round(quality * 100),
      compressedWidth: width,
      success: (res) => resolve(res.tempFilePath),
      fail: reject,
    } as UniApp.CompressImageOptions)
  })
}

async function compressNatively(file: PickedFile): Promise<PickedFile> {
  const info = file.width && file.height ? { width: file.width, height: file.height } : await imageInfo(file.path)
  let result = file
  for (const [quality, side] of STEPS) {
    const { width } = fitWithin(info.width, info.height, side)
    const path = await compressImage(file.path, quality, width)
    result = { path, name: jpegName(file.name), size: await fileSize(path), type: 'image/jpeg' }
    if (result.size <= TARGET_BYTES) break
  }
  return result
}

export function useImageCompression() {
  /** The photo made small; the photo as it is when it cannot be decoded
   * here (HEIC in most browsers: the server converts it) */
  async function compress(file: PickedFile): Promise<PickedFile> {
    try {
      const h5 = !isWeChat() && typeof document !== 'undefined'
        && typeof (uni as { compressImage?: unknown }).compressImage !== 'function'
      const compressed = h5 ? await compressOnCanvas(file) : await compressNatively(file)
      return compressed.size < file.size ? compressed : file
    } catch {
      return file
    }
  }
  return { compress, decide }
}
