// The globals of a uni-app page, stubbed: `uni` (storage over a Map, and
// every API the app calls as a mock), `wx` (the WeChat-only ones) and
// getCurrentPages. The platform is H5 unless a test sets
// process.env.UNI_PLATFORM = 'mp-weixin' (what uni's build sets).
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
  chooseMedia: vi.fn(),
  chooseImage: vi.fn(),
  chooseFile: vi.fn(),
  compressImage: vi.fn(),
  getImageInfo: vi.fn(),
  getFileInfo: vi.fn(),
  requestSubscribeMessage: vi.fn(),
  showToast: vi.fn(),
  showModal: vi.fn(),
  navigateTo: vi.fn(),
  redirectTo: vi.fn(),
  switchTab: vi.fn(),
  setNavigationBarTitle: vi.fn(),
}

export const wxMock = {
  onNeedPrivacyAuthorization: vi.fn(),
  chooseMessageFile: vi.fn(),
}

export const pages: Array<{ route: string }> = []

export function storedValue(key: string): unknown {
  return stored.get(key)
}

function defaults() {
  stored.clear()
  pages.length = 0
  pages.push({ route: 'pages/index/index' })
  uniMock.getAppBaseInfo.mockReturnValue({ language: 'zh_CN' })
  uniMock.getSystemInfoSync.mockReturnValue({ language: 'zh_CN' })
  uniMock.getStorageSync.mockImplementation((key: string) => stored.get(key) ?? '')
  uniMock.setStorageSync.mockImplementation((key: string, value: unknown) => { stored.set(key, value) })
  uniMock.removeStorageSync.mockImplementation((key: string) => { stored.delete(key) })
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
