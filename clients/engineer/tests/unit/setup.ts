// The globals of a uni-app page, stubbed: `uni` (storage over a Map, and
// every API the app calls as a mock), `wx` (the WeChat-only ones) and
// getCurrentPages. The platform is H5 unless a test sets
// process.env.UNI_PLATFORM ('mp-weixin', 'app'), as uni's build does.
import { beforeEach, vi } from 'vitest'

const stored = new Map<string, unknown>()

export const uniMock = {
  request: vi.fn(),
  uploadFile: vi.fn(),
  downloadFile: vi.fn(),
  login: vi.fn(),
  getStorageSync: vi.fn(),
  setStorageSync: vi.fn(),
  removeStorageSync: vi.fn(),
  getAppBaseInfo: vi.fn(),
  getSystemInfoSync: vi.fn(),
  getLocation: vi.fn(),
  openSetting: vi.fn(),
  openAppAuthorizeSetting: vi.fn(),
  openLocation: vi.fn(),
  setClipboardData: vi.fn(),
  makePhoneCall: vi.fn(),
  vibrateShort: vi.fn(),
  createInnerAudioContext: vi.fn(),
  setTabBarBadge: vi.fn(),
  removeTabBarBadge: vi.fn(),
  requestSubscribeMessage: vi.fn(),
  chooseMedia: vi.fn(),
  chooseImage: vi.fn(),
  chooseFile: vi.fn(),
  compressImage: vi.fn(),
  getImageInfo: vi.fn(),
  getFileInfo: vi.fn(),
  onNetworkStatusChange: vi.fn(),
  offNetworkStatusChange: vi.fn(),
  getNetworkType: vi.fn(),
  showToast: vi.fn(),
  showModal: vi.fn(),
  navigateTo: vi.fn(),
  reLaunch: vi.fn(),
  switchTab: vi.fn(),
  setNavigationBarTitle: vi.fn(),
}

export const wxMock = {
  onNeedPrivacyAuthorization: vi.fn(),
  chooseMessageFile: vi.fn(),
}

export const pages: Array<{ route: string }> = []

/** A value kept in storage: as stored (the token), or its JSON read */
export function storedValue(key: string): unknown {
  const value = stored.get(key)
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value)
  } catch {
    return value
  }
}

function defaults() {
  stored.clear()
  pages.length = 0
  pages.push({ route: 'pages/inbox/index' })
  uniMock.getAppBaseInfo.mockReturnValue({ language: 'zh_CN' })
  uniMock.getSystemInfoSync.mockReturnValue({ language: 'zh_CN', deviceBrand: 'HUAWEI', deviceModel: 'Mate 60', platform: 'android' })
  uniMock.getStorageSync.mockImplementation((key: string) => stored.get(key) ?? '')
  uniMock.setStorageSync.mockImplementation((key: string, value: unknown) => { stored.set(key, value) })
  uniMock.removeStorageSync.mockImplementation((key: string) => { stored.delete(key) })
  uniMock.createInnerAudioContext.mockImplementation(() => ({ src: '', play: vi.fn(), stop: vi.fn() }))
  process.env.UNI_PLATFORM = 'h5'
}

vi.stubGlobal('uni', uniMock)
vi.stubGlobal('wx', wxMock)
vi.stubGlobal('getCurrentPages', () => pages)
defaults()

beforeEach(() => {
  for (const mock of [...Object.values(uniMock), ...Object.values(wxMock)]) {
    mock.mockReset()
  }
  defaults()
})

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
