// The globals of a uni-app page in the apps' unit tests (never bundled into
// an app: only tests/unit/setup.ts imports it): `uni` with the APIs an app
// names as mocks and its storage over a Map, `wx` (the WeChat-only APIs) and
// getCurrentPages. Every mock is reset before each test, then given the
// defaults again; the platform is H5 (process.env.UNI_PLATFORM = 'h5', as
// uni's build sets it) unless a test sets another.
import { beforeEach, vi, type Mock } from 'vitest'

declare const process: { env: Record<string, string | undefined> }

export interface UniStubOptions<U extends string, W extends string> {
  /** The uni APIs the app calls: each a mock */
  uni: readonly U[]
  /** The wx APIs the app calls (WeChat only): each a mock */
  wx: readonly W[]
  /** The route of the page getCurrentPages answers */
  route: string
  /** What uni.getSystemInfoSync answers */
  systemInfo?: Record<string, unknown>
  /** More defaults of the app, after the shared ones (before each test) */
  defaults?: (uniMock: Record<U, Mock>) => void
}

export interface UniStubs<U extends string, W extends string> {
  uniMock: Record<U | 'getAppBaseInfo' | 'getSystemInfoSync' | 'getStorageSync' | 'setStorageSync' | 'removeStorageSync', Mock>
  wxMock: Record<W, Mock>
  pages: Array<{ route: string }>
  /** A value kept in storage, as stored */
  storedRaw(key: string): unknown
}

const STORAGE = ['getAppBaseInfo', 'getSystemInfoSync', 'getStorageSync', 'setStorageSync', 'removeStorageSync'] as const

/** Stubs the globals (at once, and again before each test) */
export function stubUniGlobals<U extends string, W extends string>(options: UniStubOptions<U, W>): UniStubs<U, W> {
  const stored = new Map<string, unknown>()
  const uniMock = {} as Record<string, Mock>
  for (const name of [...options.uni, ...STORAGE]) uniMock[name] = vi.fn()
  const wxMock = {} as Record<string, Mock>
  for (const name of options.wx) wxMock[name] = vi.fn()
  const pages: Array<{ route: string }> = []

  function defaults() {
    stored.clear()
    pages.length = 0
    pages.push({ route: options.route })
    uniMock.getAppBaseInfo.mockReturnValue({ language: 'zh_CN' })
    uniMock.getSystemInfoSync.mockReturnValue(options.systemInfo ?? { language: 'zh_CN' })
    uniMock.getStorageSync.mockImplementation((key: string) => stored.get(key) ?? '')
    uniMock.setStorageSync.mockImplementation((key: string, value: unknown) => { stored.set(key, value) })
    uniMock.removeStorageSync.mockImplementation((key: string) => { stored.delete(key) })
    options.defaults?.(uniMock as Record<U, Mock>)
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

  return {
    uniMock: uniMock as UniStubs<U, W>['uniMock'],
    wxMock: wxMock as Record<W, Mock>,
    pages,
    storedRaw: (key) => stored.get(key),
  }
}
