// Who is logged in: a device session of the engineer (30 days, extended by
// each use), its token in storage. Password login everywhere; on WeChat,
// after a password login the app links this WeChat once (uni.login → POST
// /auth/wechat/link), and later starts log in by WeChat (POST
// /auth/wechat/engineer; 401 wechat_not_linked → the password form).
import { defineStore } from 'pinia'
import { ApiError, clearFileCache, storage, type Schemas } from '@instrument/shared'
import { api, onUnauthorized, tokenStore, wechatApi } from '@/services/api'
import { platform } from '@/utils/platform'
import { t } from '@/locale'

export const LOGIN_PAGE = '/pages/login/index'
const ENGINEER_KEY = 'session.engineer'
const LINKED_KEY = 'session.wechat-linked'
const APP_NAME = '工程师App'

type Engineer = Schemas['EngineerSession']['engineer']

/** How the back office lists this device: "HUAWEI Mate 60 / 工程师App (微信)" */
export function deviceName(): string {
  let info: Partial<UniApp.GetSystemInfoResult> = {}
  try {
    info = uni.getSystemInfoSync()
  } catch {
    info = {}
  }
  const extra = info as { deviceBrand?: string; deviceModel?: string; browserName?: string; osName?: string }
  const brand = extra.deviceBrand || info.brand || ''
  const model = extra.deviceModel || info.model || ''
  let device = [brand, model].filter(Boolean).join(' ').trim()
  if (!device || /^(pc|unknown)$/i.test(device)) {
    device = [extra.osName || info.platform, extra.browserName].filter(Boolean).join(' ')
  }
  const where = { h5: 'H5', 'mp-weixin': '微信', app: 'App' }[platform()]
  return `${device || '?'} / ${APP_NAME} (${where})`.slice(0, 100)
}

/** The code of wx.login */
export function wechatCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    uni.login({
      provider: 'weixin',
      success: (result) => (result.code ? resolve(result.code) : reject(new Error(result.errMsg))),
      fail: (error) => reject(new Error(error?.errMsg ?? 'login:fail')),
    })
  })
}

function currentRoute(): string {
  const pages = getCurrentPages()
  const page = pages[pages.length - 1] as { route?: string } | undefined
  return page?.route ? '/' + page.route : ''
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

let wechatLogin: Promise<boolean> | null = null

/** logout: the engineer left (what the phone keeps of them goes); expired:
 * the server ended the session (kept for when they log in again) */
export type CloseReason = 'logout' | 'expired'
type Listener = (reason: CloseReason) => void | Promise<void>
const closeListeners = new Set<Listener>()
const openListeners = new Set<(engineer: Engineer) => void | Promise<void>>()

/** What to stop or forget when the session ends (the long poll, offline data) */
export function onSessionClosed(listener: Listener): void {
  closeListeners.add(listener)
}

/** What to start when a session opens (the long poll, the outbox's owner) */
export function onSessionOpened(listener: (engineer: Engineer) => void | Promise<void>): void {
  openListeners.add(listener)
}

async function tell<T>(listeners: Set<(value: T) => void | Promise<void>>, value: T): Promise<void> {
  for (const listener of listeners) {
    try {
      await listener(value)
    } catch (error) {
      console.error('session listener failed', error)
    }
  }
}

export const useSessionStore = defineStore('session', {
  state: () => ({
    token: tokenStore.get() as string | null,
    engineer: storage.get<Engineer>(ENGINEER_KEY),
    /** This WeChat is linked to the engineer (as far as this phone knows) */
    wechatLinked: !!storage.get<boolean>(LINKED_KEY),
    /** Why the last WeChat login or link failed */
    wechatProblem: '' as string,
    /** The last WeChat login said nobody linked this WeChat */
    wechatNotLinked: false,
  }),
  getters: {
    loggedIn: (state) => !!state.token,
  },
  actions: {
    async open(session: Schemas['EngineerSession']) {
      this.token = session.token
      this.engineer = session.engineer
      tokenStore.set(session.token)
      storage.set(ENGINEER_KEY, session.engineer)
      await tell(openListeners, session.engineer)
    },
    async close(why: CloseReason) {
      this.token = null
      if (why === 'logout') {
        this.engineer = null
        storage.remove(ENGINEER_KEY)
      }
      tokenStore.set(null)
      clearFileCache()
      await tell(closeListeners, why)
    },
    setLinked(linked: boolean) {
      this.wechatLinked = linked
      if (linked) storage.set(LINKED_KEY, true)
      else storage.remove(LINKED_KEY)
    },
    /** Password login; on WeChat, then link this WeChat once */
    async login(login: string, password: string) {
      await this.open(await api.engineerLogin(login.trim(), password, deviceName()))
      if (platform() === 'mp-weixin' && !this.wechatLinked) await this.linkWechat()
    },
    /** Link this WeChat to the engineer; false (and wechatProblem) when it
     * failed: the password login stands */
    async linkWechat(): Promise<boolean> {
      try {
        await wechatApi.link(await wechatCode())
        this.setLinked(true)
        this.wechatProblem = ''
        return true
      } catch (error) {
        this.wechatProblem = t('login.link_failed', { reason: reason(error) })
        return false
      }
    },
    async unlinkWechat() {
      await wechatApi.unlink()
      this.setLinked(false)
    },
    /** WeChat: log in by WeChat, one attempt at a time; false when it
     * could not (not linked: wechatNotLinked) */
    loginByWechat(): Promise<boolean> {
      if (!wechatLogin) {
        wechatLogin = (async () => {
          try {
            await this.open(await wechatApi.login(await wechatCode(), deviceName()))
            this.setLinked(true)
            this.wechatNotLinked = false
            this.wechatProblem = ''
            return true
          } catch (error) {
            this.wechatNotLinked = error instanceof ApiError && error.code === 'wechat_not_linked'
            if (this.wechatNotLinked) this.setLinked(false)
            this.wechatProblem = this.wechatNotLinked
              ? t('login.wechat_not_linked')
              : t('login.wechat_failed', { reason: reason(error) })
            return false
          } finally {
            wechatLogin = null
          }
        })()
      }
      return wechatLogin
    },
    /** Whether there is a session: the token kept, else (WeChat) a WeChat
     * login */
    async ensure(): Promise<boolean> {
      if (this.token) return true
      if (platform() === 'mp-weixin') return this.loginByWechat()
      return false
    },
    /** A page that needs the engineer: true when logged in; the login page
     * is opened otherwise */
    async require(): Promise<boolean> {
      if (await this.ensure()) return true
      if (currentRoute() !== LOGIN_PAGE) uni.reLaunch({ url: LOGIN_PAGE })
      return false
    },
    async logout() {
      try {
        await api.logout()
      } catch (error) {
        // The session is forgotten here whatever the server says
        if (!(error instanceof ApiError)) throw error
      }
      await this.close('logout')
      uni.reLaunch({ url: LOGIN_PAGE })
    },
    /** The server ended the session (401): WeChat logs in again by itself
     * when it can; the login page otherwise */
    async expired() {
      if (!this.token) return
      await this.close('expired')
      if (platform() === 'mp-weixin' && (await this.loginByWechat())) return
      if (currentRoute() !== LOGIN_PAGE) uni.reLaunch({ url: LOGIN_PAGE })
    },
  },
})

/** Wire the client's 401 to the store (once, at launch) */
export function installSession(store = useSessionStore()): void {
  onUnauthorized(() => void store.expired())
}
