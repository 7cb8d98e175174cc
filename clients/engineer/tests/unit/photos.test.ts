// Photos leave the phone small: a 4 MB photo goes out as ≤ 600 KB, climbing
// a ladder of sizes and qualities; what the server would refuse (type,
// 10 MB) is refused before; documents only where a field takes them.
import { describe, expect, it } from 'vitest'
import { LADDER, TARGET_BYTES, climb, pickPhotos, scaled, shrinkPhoto, verdict, type Uploads } from '@/composables/photos'
import { uniMock } from './setup'

const uploads: Uploads = {
  max_size: 10 * 1024 * 1024, max_files: 20,
  photo_types: ['image/heic', 'image/jpeg', 'image/png', 'image/webp'],
  document_types: ['application/pdf'],
  photo_extensions: ['heic', 'jpeg', 'jpg', 'png', 'webp'],
  document_extensions: ['doc', 'docx', 'pdf', 'xls', 'xlsx'],
}

const MB = 1024 * 1024

describe('what may be sent', () => {
  it('takes photos everywhere, documents where the field takes files, small photos as they are', () => {
    expect(verdict({ path: 'a', name: 'IMG_1.JPG', size: 4 * MB }, 'images', uploads)).toEqual({ ok: true, kind: 'photo', shrink: true })
    expect(verdict({ path: 'a', name: 'small.png', size: 200 * 1024 }, 'images', uploads)).toEqual({ ok: true, kind: 'photo', shrink: false })
    expect(verdict({ path: 'a', name: '报告.pdf', size: MB }, 'images', uploads)).toEqual({ ok: false, problem: 'type' })
    expect(verdict({ path: 'a', name: '报告.pdf', size: MB }, 'files', uploads)).toEqual({ ok: true, kind: 'file', shrink: false })
    expect(verdict({ path: 'a', name: 'big.pdf', size: 11 * MB }, 'files', uploads)).toEqual({ ok: false, problem: 'size' })
    expect(verdict({ path: 'blob:x', name: 'blob', type: 'image/jpeg', size: MB }, 'images', uploads).ok).toBe(true)
    expect(verdict({ path: 'a', name: 'movie.mp4', size: MB }, 'files', uploads)).toEqual({ ok: false, problem: 'type' })
  })
})

describe('making a photo small', () => {
  it('scales the longest side down, keeping the shape', () => {
    expect(scaled(4000, 3000, 1600)).toEqual({ width: 1600, height: 1200 })
    expect(scaled(3000, 4000, 1280)).toEqual({ width: 960, height: 1280 })
    expect(scaled(800, 600, 1600)).toEqual({ width: 800, height: 600 })
  })

  it('climbs the ladder until the photo is small enough', async () => {
    const sizes = [1.4 * MB, 900 * 1024, 580 * 1024, 400 * 1024]
    const tried: number[] = []
    const result = await climb(async (step) => {
      tried.push(step.side)
      return { size: sizes[tried.length - 1] }
    })
    expect(result.size).toBeLessThanOrEqual(TARGET_BYTES)
    expect(tried).toEqual([1600, 1600, 1280])
    // Never below the last rung
    const last = await climb(async () => ({ size: 2 * MB }))
    expect(last.size).toBe(2 * MB)
    expect(LADDER.at(-1)!.side).toBeGreaterThanOrEqual(800)
  })

  it('sends a 4 MB phone photo as ≤ 600 KB on WeChat (uni.compressImage)', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    // What the phone's encoder gives: bytes ∝ pixels × quality
    const made = new Map<string, number>()
    uniMock.compressImage.mockImplementation(({ src, quality, compressedWidth, success }) => {
      expect(src).toBe('wxfile://tmp/IMG_0001.jpg')
      const pixels = compressedWidth * compressedWidth * 0.75
      const path = `wxfile://tmp/small-${compressedWidth}-${quality}.jpg`
      made.set(path, Math.round(pixels * quality / 100 * 0.45))
      success({ tempFilePath: path })
    })
    uniMock.getFileInfo.mockImplementation(({ filePath, success }) => success({ size: made.get(filePath) }))
    const photo = { path: 'wxfile://tmp/IMG_0001.jpg', name: 'IMG_0001.jpg', size: 4 * MB, width: 4000, height: 3000 }
    const small = await shrinkPhoto(photo)
    expect(small.size).toBeLessThanOrEqual(600 * 1024)
    expect(small).toMatchObject({ name: 'IMG_0001.jpg', type: 'image/jpeg' })
    expect(uniMock.compressImage.mock.calls[0][0]).toMatchObject({ compressedWidth: 1600, quality: 82 })
  })

  it('sends the photo as it is when it cannot be made smaller here', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    uniMock.getImageInfo.mockImplementation(({ fail }) => fail({ errMsg: 'getImageInfo:fail' }))
    const photo = { path: 'wxfile://tmp/a.heic', name: 'a.heic', size: 3 * MB }
    expect(await shrinkPhoto(photo)).toBe(photo)
  })
})

describe('choosing photos', () => {
  it('opens the camera or the album: chooseMedia on WeChat, chooseImage on H5; a cancel is no photo', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    uniMock.chooseMedia.mockImplementation(({ sourceType, success }) => {
      expect(sourceType).toEqual(['camera', 'album'])
      success({ tempFiles: [{ tempFilePath: 'wxfile://tmp/p.jpg', size: 10, width: 4, height: 3 }] })
    })
    expect(await pickPhotos(9)).toEqual([{ path: 'wxfile://tmp/p.jpg', name: 'p.jpg', size: 10, width: 4, height: 3 }])
    process.env.UNI_PLATFORM = 'h5'
    uniMock.chooseImage.mockImplementation(({ fail }) => fail({ errMsg: 'chooseImage:fail cancel' }))
    expect(await pickPhotos(9)).toEqual([])
  })
})
