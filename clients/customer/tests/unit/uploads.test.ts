// What is checked before a file is sent (type, 10 MB, photos only where the
// field says so), when a photo is compressed, and the upload of each file:
// progress, its own Idempotency-Key kept on a retry, removal.
import { describe, expect, it, vi } from 'vitest'
import { ApiError, type Schemas } from '@instrument/shared'
import { decide, fitWithin, kindOf, TARGET_BYTES, useImageCompression, type PickedFile, type Uploads } from '@/composables/useImageCompression'
import { useUploads } from '@/composables/useUploads'
import type { FileEntry } from '@/composables/orderForm'
import { uniMock } from './setup'

const MB = 1024 * 1024
const uploads: Uploads = {
  max_size: 10 * MB,
  max_files: 20,
  photo_types: ['image/heic', 'image/jpeg', 'image/png', 'image/webp'],
  document_types: ['application/msword', 'application/pdf', 'application/vnd.ms-excel',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  photo_extensions: ['heic', 'jpeg', 'jpg', 'png', 'webp'],
  document_extensions: ['doc', 'docx', 'pdf', 'xls', 'xlsx'],
}

const file = (name: string, size: number, type?: string): PickedFile => ({ path: `tmp/${name}`, name, size, type })
const t = (key: string, vars?: Record<string, string | number>) => (vars ? `${key} ${JSON.stringify(vars)}` : key)

function serverFile(id: number, name: string): Schemas['File'] {
  return { id, name, mimetype: 'image/jpeg', size: 1, url: `/api/v1/files/${id}`, thumbnail_url: null }
}

async function settle() {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0))
}

describe('what may be sent', () => {
  it('tells photos from documents by extension or content type', () => {
    expect(kindOf(file('IMG_0001.JPG', 1), uploads)).toBe('photo')
    expect(kindOf(file('scan.heic', 1), uploads)).toBe('photo')
    expect(kindOf(file('blob', 1, 'image/png'), uploads)).toBe('photo')
    expect(kindOf(file('报价单.xlsx', 1), uploads)).toBe('document')
    expect(kindOf(file('notes.txt', 1, 'text/plain'), uploads)).toBeNull()
  })

  it('compresses a phone photo over 600 KB, sends a small one as it is', () => {
    expect(decide(file('photo.jpg', 4 * MB), 'images', uploads)).toEqual({ send: true, kind: 'photo', compress: true })
    expect(decide(file('photo.jpg', 12 * MB), 'files', uploads)).toEqual({ send: true, kind: 'photo', compress: true })
    expect(decide(file('small.png', TARGET_BYTES), 'images', uploads)).toEqual({ send: true, kind: 'photo', compress: false })
  })

  it('refuses a document over 10 MB, a document where photos are asked, an unknown type', () => {
    expect(decide(file('report.pdf', 10 * MB + 1), 'files', uploads)).toEqual({ send: false, reason: 'size' })
    expect(decide(file('report.pdf', 10 * MB), 'files', uploads)).toEqual({ send: true, kind: 'document', compress: false })
    expect(decide(file('report.pdf', 1000), 'images', uploads)).toEqual({ send: false, reason: 'type' })
    expect(decide(file('virus.exe', 1000), 'files', uploads)).toEqual({ send: false, reason: 'type' })
  })

  it('fits the long side within 1600 px', () => {
    expect(fitWithin(4032, 3024)).toEqual({ width: 1600, height: 1200 })
    expect(fitWithin(3024, 4032)).toEqual({ width: 1200, height: 1600 })
    expect(fitWithin(800, 600)).toEqual({ width: 800, height: 600 })
  })
})

describe('compression on WeChat', () => {
  it('makes a 4 MB photo at most 600 KB with uni.compressImage, 1600 px at most', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    const sizes: Record<string, number> = { 'tmp/q80': 900 * 1024, 'tmp/q70': 580 * 1024 }
    uniMock.getImageInfo.mockImplementation(({ success }) => success({ width: 4032, height: 3024 }))
    uniMock.compressImage.mockImplementation(({ quality, success }) => success({ tempFilePath: `tmp/q${quality}` }))
    uniMock.getFileInfo.mockImplementation(({ filePath, success }) => success({ size: sizes[filePath] }))
    const result = await useImageCompression().compress(file('IMG_1.jpg', 4 * MB))
    expect(result).toMatchObject({ path: 'tmp/q70', size: 580 * 1024, name: 'IMG_1.jpg' })
    expect(uniMock.compressImage.mock.calls.map(([options]) => [options.quality, options.compressedWidth]))
      .toEqual([[80, 1600], [70, 1600]])
  })

  it('sends the photo as it is when it cannot be compressed', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    uniMock.getImageInfo.mockImplementation(({ fail }) => fail({ errMsg: 'getImageInfo:fail' }))
    const photo = file('IMG_2.heic', 3 * MB)
    expect(await useImageCompression().compress(photo)).toBe(photo)
  })
})

describe('uploads of a form', () => {
  function setup(send = vi.fn()) {
    const changed = vi.fn()
    const uploader = useUploads({ uploads: () => uploads, send, t, changed })
    return { uploader, send, changed }
  }

  it('checks before sending: nothing is sent for a refused file, each refusal says why', async () => {
    const { uploader, send } = setup()
    const target: FileEntry[] = []
    const refused = await uploader.add(target, [file('big.pdf', 11 * MB), file('notes.txt', 10)], 'files')
    expect(refused).toEqual([
      'upload.too_big {"name":"big.pdf","max":"10 MB"}',
      expect.stringContaining('upload.bad_type {"name":"notes.txt"'),
    ])
    expect(target).toEqual([])
    expect(send).not.toHaveBeenCalled()
  })

  it('refuses a document in a photos field, more files than the field takes', async () => {
    const { uploader } = setup(vi.fn().mockResolvedValue(serverFile(1, 'a.jpg')))
    const target: FileEntry[] = []
    expect(await uploader.add(target, [file('a.pdf', 10)], 'images')).toEqual([
      expect.stringContaining('upload.photos_only')])
    expect(await uploader.add(target, [file('a.jpg', 10), file('b.jpg', 10), file('c.jpg', 10)], 'images', 2))
      .toEqual(['upload.too_many {"max":2}'])
    expect(target.map((entry) => entry.name)).toEqual(['a.jpg', 'b.jpg'])
  })

  it('shows the progress, keeps the key on a retry, and is done with the server\'s file', async () => {
    let attempt = 0
    const send = vi.fn().mockImplementation((_file, options) => {
      attempt++
      options.onProgress(40)
      if (attempt === 1) return Promise.reject(new ApiError(0, 'network', 'offline'))
      return Promise.resolve(serverFile(7, 'report.pdf'))
    })
    const { uploader, changed } = setup(send)
    const target: FileEntry[] = []
    await uploader.add(target, [file('report.pdf', 2 * MB)], 'files')
    await settle()
    expect(target[0]).toMatchObject({ status: 'failed', error: 'offline', progress: 40, kind: 'document' })
    uploader.retry(target[0])
    await settle()
    expect(target[0]).toMatchObject({ status: 'done', progress: 100, file: { id: 7 } })
    const keys = send.mock.calls.map(([, options]) => options.idempotencyKey)
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/)
    expect(keys[1]).toBe(keys[0])
    expect(send.mock.calls[0][0]).toEqual({ filePath: 'tmp/report.pdf', name: 'report.pdf' })
    expect(changed).toHaveBeenCalled()
    uploader.remove(target, target[0])
    expect(target).toEqual([])
  })

  it('sends the compressed photo, not the 4 MB one', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    uniMock.getImageInfo.mockImplementation(({ success }) => success({ width: 4000, height: 3000 }))
    uniMock.compressImage.mockImplementation(({ success }) => success({ tempFilePath: 'tmp/small.jpg' }))
    uniMock.getFileInfo.mockImplementation(({ success }) => success({ size: 400 * 1024 }))
    const send = vi.fn().mockResolvedValue(serverFile(3, 'IMG.jpg'))
    const { uploader } = setup(send)
    const target: FileEntry[] = []
    await uploader.add(target, [file('IMG.jpg', 4 * MB)], 'images')
    await settle()
    expect(send).toHaveBeenCalledTimes(1)
    expect(send.mock.calls[0][0]).toEqual({ filePath: 'tmp/small.jpg', name: 'IMG.jpg' })
    expect(target[0]).toMatchObject({ status: 'done', size: 400 * 1024 })
  })

  it('lets the customer choose only as many files as the field has room for', async () => {
    const send = vi.fn().mockResolvedValue(serverFile(5, 'IMG.jpg'))
    const { uploader } = setup(send)
    const target: FileEntry[] = []
    uniMock.chooseMedia.mockImplementation(({ count, success }) => success({
      tempFiles: Array.from({ length: count }, (_, i) => ({ tempFilePath: `wxfile://tmp/IMG_${i}.jpg`, size: 1000 })),
    }))
    expect(await uploader.choose(target, 'photo', 'images', 3)).toEqual([])
    expect(uniMock.chooseMedia.mock.calls[0][0].count).toBe(3)
    expect(target).toHaveLength(3)
    expect(await uploader.choose(target, 'photo', 'images', 3)).toEqual(['upload.too_many {"max":3}'])
    expect(uniMock.chooseMedia).toHaveBeenCalledTimes(1)
    // A cancelled choice adds nothing and says nothing
    uniMock.chooseMedia.mockImplementation(({ fail }) => fail({ errMsg: 'chooseMedia:fail cancel' }))
    expect(await uploader.choose([], 'photo', 'images')).toEqual([])
  })
})
