// The files of a form: each chosen file is checked (type, size), compressed
// when it is a large photo, then uploaded (POST /files, one file a request)
// with its own Idempotency-Key, showing its progress; a failed one can be
// sent again (same key: never twice on the server) or removed.
import { formatSize, newIdempotencyKey, type LocalFile, type Schemas, type UploadOptions } from '@instrument/shared'
import type { FileEntry } from './orderForm'
import { decide, useImageCompression, type Accept, type PickedFile, type Uploads } from './useImageCompression'
import { pickDocuments, pickPhotos } from './useFilePicker'

type Translate = (key: string, vars?: Record<string, string | number>) => string

/** A size limit as people write it: 10 MB */
function limitText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MB` : formatSize(bytes)
}

export interface UploadsOptions {
  uploads(): Uploads | null | undefined
  send(file: LocalFile, options: UploadOptions): Promise<Schemas['File']>
  t: Translate
  /** Called when an entry changed (to save the draft) */
  changed?(): void
  /** Uploads at once (WeChat allows 10 requests at a time) */
  concurrency?: number
}

export function useUploads(options: UploadsOptions) {
  const { compress } = useImageCompression()
  const concurrency = options.concurrency ?? 3
  // The local file of each entry, by key (compressed once, sent again as is)
  const local = new Map<string, PickedFile>()
  const queue: Array<() => Promise<void>> = []
  let running = 0

  function pump() {
    while (running < concurrency && queue.length) {
      const job = queue.shift()!
      running++
      void job().finally(() => {
        running--
        pump()
      })
    }
  }

  async function upload(entry: FileEntry) {
    const file = local.get(entry.key)
    if (!file) {
      entry.status = 'failed'
      entry.error = options.t('upload.lost')
      return
    }
    entry.status = 'uploading'
    entry.progress = 0
    entry.error = ''
    try {
      entry.file = await options.send({ filePath: file.path, name: file.name }, {
        idempotencyKey: entry.key,
        onProgress: (percent) => {
          entry.progress = Math.min(99, percent)
        },
      })
      entry.status = 'done'
      entry.progress = 100
    } catch (error) {
      entry.status = 'failed'
      entry.error = error instanceof Error ? error.message : String(error)
    }
    options.changed?.()
  }

  function enqueue(entry: FileEntry) {
    entry.status = 'waiting'
    queue.push(() => upload(entry))
    pump()
  }

  /** Check, compress and send the chosen files into `target` (a reactive
   * list); the messages of the files refused */
  async function add(target: FileEntry[], picked: PickedFile[], accept: Accept, maxItems?: number): Promise<string[]> {
    const uploads = options.uploads()
    const refused: string[] = []
    if (!uploads) return [options.t('upload.not_ready')]
    const limit = maxItems ?? uploads.max_files
    for (const file of picked) {
      if (target.length >= limit) {
        refused.push(options.t('upload.too_many', { max: limit }))
        break
      }
      const decision = decide(file, accept, uploads)
      if (!decision.send) {
        refused.push(decision.reason === 'type'
          ? options.t(accept === 'images' ? 'upload.photos_only' : 'upload.bad_type', {
            name: file.name,
            types: (accept === 'images'
              ? uploads.photo_extensions
              : [...uploads.photo_extensions, ...uploads.document_extensions]).join(', '),
          })
          : options.t('upload.too_big', { name: file.name, max: limitText(uploads.max_size) }))
        continue
      }
      target.push({
        key: newIdempotencyKey(),
        name: file.name,
        kind: decision.kind,
        path: file.path,
        size: file.size,
        status: decision.compress ? 'compressing' : 'waiting',
        progress: 0,
        error: '',
        file: null,
      })
      // The reactive entry, so that the page follows its progress
      const entry = target[target.length - 1]
      let ready = file
      if (decision.compress) {
        ready = await compress(file)
        entry.path = ready.path
        entry.size = ready.size
        entry.name = ready.name
        if (ready.size > uploads.max_size) {
          target.splice(target.indexOf(entry), 1)
          refused.push(options.t('upload.too_big', { name: file.name, max: limitText(uploads.max_size) }))
          continue
        }
      }
      local.set(entry.key, ready)
      enqueue(entry)
    }
    options.changed?.()
    return refused
  }

  /** Let the customer choose photos (camera, album) or documents, as many
   * as the field has room for, and add them; the messages of the refused */
  async function choose(target: FileEntry[], kind: 'photo' | 'document', accept: Accept, maxItems?: number): Promise<string[]> {
    const uploads = options.uploads()
    if (!uploads) return [options.t('upload.not_ready')]
    const limit = maxItems ?? uploads.max_files
    const room = limit - target.length
    if (room <= 0) return [options.t('upload.too_many', { max: limit })]
    // WeChat lets 9 files be chosen at a time
    const count = Math.min(room, 9)
    let picked: PickedFile[]
    try {
      picked = kind === 'photo'
        ? await pickPhotos(count)
        : await pickDocuments(count, uploads.document_extensions)
    } catch {
      return [options.t('upload.pick_failed')]
    }
    return picked.length ? add(target, picked, accept, maxItems) : []
  }

  function retry(entry: FileEntry) {
    if (entry.status === 'failed') enqueue(entry)
  }

  function remove(target: FileEntry[], entry: FileEntry) {
    const index = target.indexOf(entry)
    if (index >= 0) target.splice(index, 1)
    local.delete(entry.key)
    options.changed?.()
  }

  return { add, choose, retry, remove }
}
