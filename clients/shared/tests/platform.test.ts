import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createClient, type Schemas } from '../src/api/client'
import { clearFileCache, fileUrl, isWeChat, openDocument, previewPhotos, storage } from '../src/platform'
import { createI18n } from '../src/i18n'
import { uniMock } from './setup'
import examples from '../../../addons/instrument_service_api/examples.json'

const PHOTO: Schemas['File'] = examples['POST /files'] as Schemas['File']
const PDF: Schemas['File'] = {
  id: 2, name: '报价单.pdf', mimetype: 'application/pdf', size: 52344, url: '/api/v1/files/2', thumbnail_url: null,
}

let token: string | null = 'tok-a'
const client = () => createClient({ baseUrl: 'https://service.example.com', token: () => token, language: () => 'zh_CN' })

function downloads(statusCode = 200) {
  let n = 0
  uniMock.downloadFile.mockImplementation((options) => {
    n += 1
    options.success({ statusCode, tempFilePath: `wxfile://tmp_${n}` })
  })
}

describe('fileUrl', () => {
  beforeEach(() => {
    token = 'tok-a'
    clearFileCache()
    createI18n({ 'zh-CN': {}, en: {} }, 'zh-CN')
  })

  it('downloads with the token, once per file and token', async () => {
    downloads()
    const api = client()
    expect(await fileUrl(api, PHOTO)).toBe('wxfile://tmp_1')
    expect(uniMock.downloadFile.mock.calls[0][0]).toMatchObject({
      url: 'https://service.example.com/api/v1/files/1',
      header: { Authorization: 'Bearer tok-a' },
    })
    expect(await fileUrl(api, PHOTO)).toBe('wxfile://tmp_1')
    expect(uniMock.downloadFile).toHaveBeenCalledTimes(1)
    // The thumbnail is another download
    expect(await fileUrl(api, PHOTO, { thumbnail: true })).toBe('wxfile://tmp_2')
    expect(uniMock.downloadFile.mock.calls[1][0].url).toBe('https://service.example.com/api/v1/files/1/thumbnail')
    // Another token (another user) downloads again
    token = 'tok-b'
    expect(await fileUrl(api, PHOTO)).toBe('wxfile://tmp_3')
    expect(uniMock.downloadFile).toHaveBeenCalledTimes(3)
  })

  it('tries again after a failed download', async () => {
    downloads(404)
    await expect(fileUrl(client(), PHOTO)).rejects.toMatchObject({ status: 404 })
    downloads()
    await expect(fileUrl(client(), PHOTO)).resolves.toBe('wxfile://tmp_1')
    uniMock.downloadFile.mockImplementation((options) => options.fail({ errMsg: 'downloadFile:fail' }))
    await expect(fileUrl(client(), PDF)).rejects.toMatchObject({ status: 0, code: 'network' })
  })

  it('previews photos full size', async () => {
    downloads()
    const second = { ...PHOTO, id: 5, url: '/api/v1/files/5' }
    await previewPhotos(client(), [PHOTO, second], second)
    expect(uniMock.previewImage).toHaveBeenCalledWith({ urls: ['wxfile://tmp_1', 'wxfile://tmp_2'], current: 'wxfile://tmp_2' })
  })

  it('opens a document: uni.openDocument, or a new tab for a blob URL (H5)', async () => {
    downloads()
    uniMock.openDocument.mockImplementation((options) => options.success())
    await openDocument(client(), PDF)
    expect(uniMock.openDocument.mock.calls[0][0]).toMatchObject({ filePath: 'wxfile://tmp_1', fileType: 'pdf' })

    clearFileCache()
    uniMock.downloadFile.mockImplementation((options) => options.success({ statusCode: 200, tempFilePath: 'blob:https://h5/1' }))
    const open = vi.spyOn(window, 'open').mockReturnValue(null)
    await openDocument(client(), PDF)
    expect(open).toHaveBeenCalledWith('blob:https://h5/1', '_blank')
    expect(uniMock.openDocument).toHaveBeenCalledTimes(1)
    open.mockRestore()
  })
})

describe('storage', () => {
  it('keeps JSON values', () => {
    storage.set('session', { token: 't', expires: 3 })
    expect(uniMock.setStorageSync).toHaveBeenCalledWith('session', '{"token":"t","expires":3}')
    expect(storage.get('session')).toEqual({ token: 't', expires: 3 })
    storage.remove('session')
    expect(storage.get('session')).toBeNull()
    uniMock.getStorageSync.mockReturnValue('{broken')
    expect(storage.get('session')).toBeNull()
  })
})

describe('isWeChat', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
    vi.unstubAllGlobals()
    vi.stubGlobal('uni', uniMock)
  })

  it('follows the build\'s platform', () => {
    vi.stubEnv('UNI_PLATFORM', 'mp-weixin')
    expect(isWeChat()).toBe(true)
    vi.stubEnv('UNI_PLATFORM', 'h5')
    expect(isWeChat()).toBe(false)
  })

  it('tells by the globals without a build platform', () => {
    vi.stubEnv('UNI_PLATFORM', '')
    expect(isWeChat()).toBe(false)
    vi.stubGlobal('wx', {})
    expect(isWeChat()).toBe(false) // a browser (window) with a wx object: not the mini-program
    vi.stubGlobal('window', undefined)
    expect(isWeChat()).toBe(true)
  })
})
