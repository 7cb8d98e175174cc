// The global `uni` of the tests: every API the shared package calls, as
// mocks, and a storage over a Map. Reset before each test.
import { beforeEach, vi } from 'vitest'

const stored = new Map<string, unknown>()

export const uniMock = {
  request: vi.fn(),
  uploadFile: vi.fn(),
  downloadFile: vi.fn(),
  previewImage: vi.fn(),
  openDocument: vi.fn(),
  showToast: vi.fn(),
  getAppBaseInfo: vi.fn(),
  getSystemInfoSync: vi.fn(),
  getStorageSync: vi.fn(),
  setStorageSync: vi.fn(),
  removeStorageSync: vi.fn(),
  // What wot-design-uni's components ask for when they render
  createSelectorQuery: vi.fn(),
  getWindowInfo: vi.fn(),
}

function defaults() {
  stored.clear()
  uniMock.getAppBaseInfo.mockReturnValue({ language: 'zh_CN' })
  uniMock.getSystemInfoSync.mockReturnValue({ language: 'zh_CN', windowWidth: 375, windowHeight: 667 })
  uniMock.getWindowInfo.mockReturnValue({ windowWidth: 375, windowHeight: 667 })
  uniMock.getStorageSync.mockImplementation((key: string) => stored.get(key) ?? '')
  uniMock.setStorageSync.mockImplementation((key: string, value: unknown) => { stored.set(key, value) })
  uniMock.removeStorageSync.mockImplementation((key: string) => { stored.delete(key) })
  const query = {
    in: () => query,
    select: () => query,
    selectAll: () => query,
    boundingClientRect: () => query,
    exec: () => undefined,
  }
  uniMock.createSelectorQuery.mockReturnValue(query)
}

vi.stubGlobal('uni', uniMock)
defaults()

beforeEach(() => {
  for (const mock of Object.values(uniMock)) {
    mock.mockReset()
  }
  defaults()
})
