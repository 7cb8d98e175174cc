// The globals of a uni-app page, stubbed: `uni` (storage over a Map, and
// every API the app calls as a mock), `wx` (the WeChat-only ones) and
// getCurrentPages. The platform is H5 unless a test sets
// process.env.UNI_PLATFORM ('mp-weixin', 'app'), as uni's build does.
import { vi } from 'vitest'
import { stubUniGlobals } from '@instrument/shared/testing/uni'

export const { uniMock, wxMock, pages, storedRaw } = stubUniGlobals({
  uni: [
    'request', 'uploadFile', 'downloadFile', 'login',
    'getLocation', 'openSetting', 'openAppAuthorizeSetting', 'openLocation', 'setClipboardData',
    'makePhoneCall', 'vibrateShort', 'createInnerAudioContext', 'setTabBarBadge', 'removeTabBarBadge',
    'requestSubscribeMessage', 'chooseMedia', 'chooseImage', 'chooseFile', 'compressImage',
    'getImageInfo', 'getFileInfo', 'onNetworkStatusChange', 'offNetworkStatusChange', 'getNetworkType',
    'showToast', 'showModal', 'navigateTo', 'reLaunch', 'switchTab', 'setNavigationBarTitle',
  ],
  wx: ['onNeedPrivacyAuthorization', 'chooseMessageFile'],
  route: 'pages/inbox/index',
  systemInfo: { language: 'zh_CN', deviceBrand: 'HUAWEI', deviceModel: 'Mate 60', platform: 'android' },
  defaults: (uni) => {
    uni.createInnerAudioContext.mockImplementation(() => ({ src: '', play: vi.fn(), stop: vi.fn() }))
  },
})

/** A value kept in storage: as stored (the token), or its JSON read */
export function storedValue(key: string): unknown {
  const value = storedRaw(key)
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value)
  } catch {
    return value
  }
}

type Answer = { statusCode: number; data?: unknown; header?: Record<string, string> }
export type Served = { url: string; method: string; header: Record<string, string>; body?: unknown }

/** uni.request (and uni.uploadFile) answering from a handler; a handler
 * returning null fails the request as without network */
export function serve(handler: (request: Served) => Answer | null | Promise<Answer | null>): Served[] {
  const seen: Served[] = []
  uniMock.request.mockImplementation((options) => {
    const request: Served = {
      url: options.url, method: options.method, header: options.header,
      body: options.data ? JSON.parse(options.data) : undefined,
    }
    seen.push(request)
    void Promise.resolve(handler(request)).then((answer) => {
      if (!answer) options.fail({ errMsg: 'request:fail' })
      else options.success({ statusCode: answer.statusCode, header: answer.header ?? {}, data: answer.data === undefined ? '' : JSON.stringify(answer.data) })
    })
  })
  uniMock.uploadFile.mockImplementation((options) => {
    const request: Served = { url: options.url, method: 'POST', header: options.header, body: { filePath: options.filePath } }
    seen.push(request)
    void Promise.resolve(handler(request)).then((answer) => {
      if (!answer) options.fail({ errMsg: 'uploadFile:fail' })
      else options.success({ statusCode: answer.statusCode, data: answer.data === undefined ? '' : JSON.stringify(answer.data) })
    })
    return { onProgressUpdate: vi.fn() }
  })
  return seen
}
