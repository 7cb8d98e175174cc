// Photos are made small before they are sent: a 4 MB phone photo goes out
// as at most 600 KB (@instrument/shared shrinkPhoto). WeChat: chooseMedia's
// "compressed" size, then uni.compressImage while still too large. H5: drawn
// onto a canvas, at most 1600 px on the long side, as JPEG of quality 0.8
// (lower if needed).
// What is accepted at all (type, 10 MB) is checked before anything is sent,
// from GET /config's uploads.
import { TARGET_BYTES, extensionOf, isWeChat, scaled, shrinkPhoto, type Picked, type Uploads } from '@instrument/shared'

export type { Uploads }
/** A file chosen on the phone */
export type PickedFile = Picked

export { TARGET_BYTES, extensionOf }
export const MAX_SIDE = 1600
// Quality and longest side tried in turn until the photo is small enough
const LADDER = [
  { side: MAX_SIDE, quality: 0.8 }, { side: MAX_SIDE, quality: 0.7 },
  { side: 1280, quality: 0.6 }, { side: 1024, quality: 0.5 },
]

export type Accept = 'images' | 'files'

export type Decision =
  | { send: true; kind: 'photo' | 'document'; compress: boolean }
  | { send: false; reason: 'type' | 'size' }

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
  return scaled(width, height, side)
}

export function useImageCompression() {
  /** The photo made small; the photo as it is when it cannot be decoded
   * here (HEIC in most browsers: the server converts it) */
  async function compress(file: PickedFile): Promise<PickedFile> {
    const h5 = !isWeChat() && typeof document !== 'undefined'
      && typeof (uni as { compressImage?: unknown }).compressImage !== 'function'
    return shrinkPhoto(file, { canvas: h5, ladder: LADDER })
  }
  return { compress, decide }
}
