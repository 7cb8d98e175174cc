// Photos leave the phone small: a 4 MB phone photo goes out as at most
// 600 KB. Making a photo small is a ladder of (longest side, JPEG quality)
// tried in turn until the file is small enough: on H5 a canvas (the browser
// applies the photo's EXIF orientation when it decodes it), on WeChat and in
// the app uni.compressImage. A photo that cannot be decoded here (HEIC in
// most browsers) goes as it is: the server converts it.
import type { Schemas } from './api/client'

/** What GET /config says of uploads: types, extensions, max_size */
export type Uploads = Schemas['ClientConfig']['uploads']

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

export type LadderStep = { side: number; quality: number }

export const TARGET_BYTES = 600 * 1024
/** Longest side, then JPEG quality, tried in turn */
export const LADDER: ReadonlyArray<LadderStep> = [
  { side: 1600, quality: 0.82 },
  { side: 1600, quality: 0.7 },
  { side: 1280, quality: 0.62 },
  { side: 1024, quality: 0.55 },
  { side: 800, quality: 0.5 },
]

/** The extension of a file name or URL, lower case ('' without one) */
export function extensionOf(name: string): string {
  const match = /\.([a-z0-9]+)$/i.exec(name.split(/[?#]/)[0])
  return match ? match[1].toLowerCase() : ''
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
  encode: (step: LadderStep) => Promise<T>,
  target = TARGET_BYTES,
  ladder: ReadonlyArray<LadderStep> = LADDER,
): Promise<T> {
  let result: T | undefined
  for (const step of ladder) {
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

async function shrinkOnCanvas(file: Picked, ladder: ReadonlyArray<LadderStep>): Promise<Picked> {
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
    }, TARGET_BYTES, ladder)
    return { path: URL.createObjectURL(blob), name: asJpegName(file.name), size: blob.size, type: 'image/jpeg' }
  } finally {
    image.close()
  }
}

// WeChat and the app: uni.compressImage

function call<T>(run: (success: (value: T) => void, fail: (error: unknown) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run(resolve, reject))
}

async function shrinkNatively(file: Picked, ladder: ReadonlyArray<LadderStep>): Promise<Picked> {
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
  }, TARGET_BYTES, ladder)
}

/** The photo made small (≤ TARGET_BYTES when it can be): on a canvas
 * (`canvas`, H5) or with uni.compressImage, climbing `ladder`; as it is
 * when it cannot be decoded here or would not get smaller */
export async function shrinkPhoto(
  file: Picked,
  options: { canvas: boolean; ladder?: ReadonlyArray<LadderStep> },
): Promise<Picked> {
  const ladder = options.ladder ?? LADDER
  try {
    const small = options.canvas ? await shrinkOnCanvas(file, ladder) : await shrinkNatively(file, ladder)
    return small.size < file.size ? small : file
  } catch {
    return file
  }
}
