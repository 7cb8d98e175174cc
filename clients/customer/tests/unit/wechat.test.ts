// The WeChat-only paths, with a stubbed uni and wx: the silent login (and
// again on a 401), the privacy agreement pop-up, the subscription request
// (at most 5 templates, only in the submit tap, a refusal ignored), and the
// pickers (chooseMessageFile for documents, chooseMedia for photos).
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { installSession, useSessionStore } from '@/stores/session'
import { api } from '@/services/api'
import { agreePrivacy, declinePrivacy, installPrivacyHandler, privacyState, resetPrivacy } from '@instrument/shared'
import { MAX_TEMPLATES, requestSubscriptions, templateIds } from '@/composables/useSubscribeMessages'
import { pickDocuments, pickPhotos } from '@/composables/useFilePicker'
import { pages, storedValue, uniMock, wxMock } from './setup'

type Answer = { statusCode: number; data: unknown }
type Handler = (request: { url: string; method: string; header: Record<string, string>; data?: string }) => Answer

/** uni.request answering from a handler */
function serve(handler: Handler) {
  uniMock.request.mockImplementation((options) => {
    const answer = handler(options)
    setTimeout(() => options.success({ ...answer, header: {}, data: JSON.stringify(answer.data) }), 0)
  })
}

function session(token: string) {
  return {
    token, token_type: 'Bearer', expires_in: 2592000,
    customer: { id: 1, is_new: false, contact: { name: '刘洋', company: null, department: null, position: null, phone: null, address: null, email: null } },
  }
}

const config = (count: number) => ({
  service_phone: null,
  uploads: {} as never,
  languages: ['zh_CN', 'en'] as Array<'zh_CN' | 'en'>,
  wechat: { subscribe_templates: Object.fromEntries(Array.from({ length: count }, (_, i) => [`event${i}`, `tmpl-${i}`])) },
})

beforeEach(() => {
  setActivePinia(createPinia())
})

describe('silent login', () => {
  beforeEach(() => {
    process.env.UNI_PLATFORM = 'mp-weixin'
  })

  it('logs in with the code of wx.login and sends the token as a header', async () => {
    uniMock.login.mockImplementation(({ provider, success }) => {
      expect(provider).toBe('weixin')
      success({ code: 'js-code-1', errMsg: 'login:ok' })
    })
    const seen: Array<{ url: string; body?: unknown; auth?: string }> = []
    serve(({ url, data, header }) => {
      seen.push({ url, body: data ? JSON.parse(data) : undefined, auth: header.Authorization })
      if (url.endsWith('/auth/wechat')) return { statusCode: 200, data: session('c.token-1') }
      return { statusCode: 200, data: { items: [], page: 1, page_size: 20, total: 0 } }
    })
    const store = useSessionStore()
    expect(await store.ensure()).toBe(true)
    expect(store.token).toBe('c.token-1')
    expect(storedValue('session.token')).toBe('c.token-1')
    await api.orders()
    expect(seen[0]).toMatchObject({ url: expect.stringMatching(/\/api\/v1\/auth\/wechat$/), body: { code: 'js-code-1' } })
    expect(seen[1]).toMatchObject({ url: expect.stringMatching(/\/api\/v1\/orders$/), auth: 'Bearer c.token-1' })
  })

  it('logs in once for many callers, and again silently after a 401', async () => {
    let codes = 0
    uniMock.login.mockImplementation(({ success }) => success({ code: `code-${++codes}` }))
    let tokens = 0
    serve(({ url, header }) => {
      if (url.endsWith('/auth/wechat')) return { statusCode: 200, data: session(`c.token-${++tokens}`) }
      return header.Authorization === 'Bearer c.token-1'
        ? { statusCode: 401, data: { error: { code: 'unauthorized', message: 'expired' } } }
        : { statusCode: 200, data: { contact: {} } }
    })
    const store = useSessionStore()
    installSession(store)
    await Promise.all([store.ensure(), store.ensure(), store.ensure()])
    expect(uniMock.login).toHaveBeenCalledTimes(1)
    await expect(api.me()).rejects.toMatchObject({ status: 401 })
    await vi.waitFor(() => expect(store.token).toBe('c.token-2'))
    expect(uniMock.login).toHaveBeenCalledTimes(2)
    expect(uniMock.navigateTo).not.toHaveBeenCalled()
  })

  it('does not log in again by itself after the customer logged out', async () => {
    uniMock.login.mockImplementation(({ success }) => success({ code: 'c' }))
    serve(({ url }) => (url.endsWith('/auth/wechat')
      ? { statusCode: 200, data: session('c.t') }
      : { statusCode: 204, data: '' }))
    const store = useSessionStore()
    await store.ensure()
    await store.logout()
    expect(storedValue('session.token')).toBeUndefined()
    expect(await store.ensure()).toBe(false)
    expect(uniMock.login).toHaveBeenCalledTimes(1)
    expect(await store.loginSilently()).toBe(true)
  })

  it('on H5 there is no silent login: a 401 opens the login page', async () => {
    process.env.UNI_PLATFORM = 'h5'
    serve(() => ({ statusCode: 401, data: { error: { code: 'unauthorized', message: 'no' } } }))
    const store = useSessionStore()
    installSession(store)
    expect(await store.ensure()).toBe(false)
    await expect(api.me()).rejects.toMatchObject({ status: 401 })
    expect(uniMock.login).not.toHaveBeenCalled()
    expect(uniMock.navigateTo).toHaveBeenCalledWith({ url: '/pages/login/index' })
    // Not twice when the login page is already open
    pages.push({ route: 'pages/login/index' })
    store.expired()
    expect(uniMock.navigateTo).toHaveBeenCalledTimes(1)
  })
})

describe('the privacy agreement', () => {
  beforeEach(() => {
    resetPrivacy()
  })

  it('shows the pop-up when WeChat asks, and gives WeChat the agreement with the button id', () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    expect(installPrivacyHandler()).toBe(true)
    expect(wxMock.onNeedPrivacyAuthorization).toHaveBeenCalledTimes(1)
    const handler = wxMock.onNeedPrivacyAuthorization.mock.calls[0][0]
    const resolve = vi.fn()
    expect(privacyState.visible).toBe(false)
    // e.g. chooseMedia called before the customer agreed
    handler(resolve, { referrer: 'chooseMedia' })
    expect(privacyState.visible).toBe(true)
    agreePrivacy('agree-privacy')
    expect(resolve).toHaveBeenCalledWith({ event: 'agree', buttonId: 'agree-privacy' })
    expect(privacyState.visible).toBe(false)
  })

  it('tells WeChat when the customer declines', () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    installPrivacyHandler()
    const resolve = vi.fn()
    wxMock.onNeedPrivacyAuthorization.mock.calls[0][0](resolve)
    declinePrivacy()
    expect(resolve).toHaveBeenCalledWith({ event: 'disagree' })
    expect(privacyState.visible).toBe(false)
  })

  it('is installed once, and not on H5', () => {
    process.env.UNI_PLATFORM = 'h5'
    expect(installPrivacyHandler()).toBe(false)
    process.env.UNI_PLATFORM = 'mp-weixin'
    expect(installPrivacyHandler()).toBe(true)
    expect(installPrivacyHandler()).toBe(false)
    expect(wxMock.onNeedPrivacyAuthorization).toHaveBeenCalledTimes(1)
  })
})

describe('subscription messages', () => {
  it('asks for 5 templates at most, each once', () => {
    expect(templateIds(config(10))).toEqual(['tmpl-0', 'tmpl-1', 'tmpl-2', 'tmpl-3', 'tmpl-4'])
    expect(MAX_TEMPLATES).toBe(5)
    const same = config(3)
    same.wechat.subscribe_templates.event9 = 'tmpl-0'
    expect(templateIds(same)).toEqual(['tmpl-0', 'tmpl-1', 'tmpl-2'])
    expect(templateIds(null)).toEqual([])
  })

  it('asks on WeChat only, and a refusal resolves all the same', async () => {
    process.env.UNI_PLATFORM = 'h5'
    await requestSubscriptions(config(10))
    expect(uniMock.requestSubscribeMessage).not.toHaveBeenCalled()
    process.env.UNI_PLATFORM = 'mp-weixin'
    uniMock.requestSubscribeMessage.mockImplementation(({ fail }) => fail({ errMsg: 'requestSubscribeMessage:fail user refused' }))
    await expect(requestSubscriptions(config(10))).resolves.toBeUndefined()
    expect(uniMock.requestSubscribeMessage.mock.calls[0][0].tmplIds).toHaveLength(5)
  })

  it('does not ask without templates', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    await requestSubscriptions(config(0))
    expect(uniMock.requestSubscribeMessage).not.toHaveBeenCalled()
  })
})

describe('choosing files', () => {
  it('takes Word, Excel and PDF from a chat with wx.chooseMessageFile on WeChat', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    wxMock.chooseMessageFile.mockImplementation(({ success }) => success({
      tempFiles: [{ path: 'wxfile://tmp_1.pdf', size: 2048, name: '报价单.pdf', type: 'file' }],
    }))
    const files = await pickDocuments(3, ['doc', 'docx', 'pdf', 'xls', 'xlsx'])
    expect(wxMock.chooseMessageFile).toHaveBeenCalledWith(expect.objectContaining({
      count: 3, type: 'file', extension: ['doc', 'docx', 'pdf', 'xls', 'xlsx'] }))
    expect(uniMock.chooseFile).not.toHaveBeenCalled()
    expect(files).toEqual([{ path: 'wxfile://tmp_1.pdf', name: '报价单.pdf', size: 2048 }])
  })

  it('gives nothing when the customer cancels, and says a real failure', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    wxMock.chooseMessageFile.mockImplementation(({ fail }) => fail({ errMsg: 'chooseMessageFile:fail cancel' }))
    expect(await pickDocuments(1, ['pdf'])).toEqual([])
    wxMock.chooseMessageFile.mockImplementation(({ fail }) => fail({ errMsg: 'chooseMessageFile:fail privacy permission is not authorized' }))
    await expect(pickDocuments(1, ['pdf'])).rejects.toMatchObject({ errMsg: expect.stringContaining('privacy') })
  })

  it('uses a file picker on H5, with the extensions', async () => {
    process.env.UNI_PLATFORM = 'h5'
    uniMock.chooseFile.mockImplementation(({ success }) => success({
      tempFiles: [{ path: 'blob:1', size: 10, name: 'a.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }],
    }))
    const files = await pickDocuments(2, ['docx', 'pdf'])
    expect(uniMock.chooseFile).toHaveBeenCalledWith(expect.objectContaining({ count: 2, extension: ['.docx', '.pdf'] }))
    expect(wxMock.chooseMessageFile).not.toHaveBeenCalled()
    expect(files[0]).toMatchObject({ path: 'blob:1', name: 'a.docx' })
  })

  it('takes photos from camera or album, compressed, with chooseMedia', async () => {
    uniMock.chooseMedia.mockImplementation(({ success }) => success({
      tempFiles: [{ tempFilePath: 'wxfile://tmp/IMG_1.jpg', size: 500000, width: 4000, height: 3000 }],
    }))
    const files = await pickPhotos(9)
    expect(uniMock.chooseMedia).toHaveBeenCalledWith(expect.objectContaining({
      count: 9, mediaType: ['image'], sourceType: ['album', 'camera'], sizeType: ['compressed'] }))
    expect(files).toEqual([{ path: 'wxfile://tmp/IMG_1.jpg', name: 'IMG_1.jpg', size: 500000, width: 4000, height: 3000 }])
  })

  it('falls back on chooseImage where chooseMedia is missing (H5)', async () => {
    const chooseMedia = uniMock.chooseMedia
    ;(uniMock as Record<string, unknown>).chooseMedia = undefined
    try {
      uniMock.chooseImage.mockImplementation(({ success }) => success({
        tempFiles: [{ path: 'blob:2', size: 3000000, name: 'IMG_2.HEIC', type: 'image/heic' }],
      }))
      const files = await pickPhotos(1)
      expect(files).toEqual([{ path: 'blob:2', name: 'IMG_2.HEIC', size: 3000000, type: 'image/heic' }])
    } finally {
      uniMock.chooseMedia = chooseMedia
    }
  })
})
