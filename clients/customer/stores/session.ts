// Who is logged in. WeChat: a silent login at start (uni.login → POST
// /auth/wechat), again whenever the server answers 401. H5: the phone login
// the server offers (the development login of the demo), and the login page
// on a 401.
import { defineStore } from 'pinia'
import { ApiError, clearFileCache, isWeChat, type Schemas } from '@instrument/shared'
import { api, onUnauthorized, tokenStore } from '@/services/api'

export const LOGIN_PAGE = '/pages/login/index'
// Set when the customer logged out: no silent login until they ask
const SIGNED_OUT_KEY = 'session.signed-out'

type Contact = Schemas['Contact']

/** The code of wx.login (uni.login with the weixin provider) */
export function wechatCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    uni.login({
      provider: 'weixin',
      success: (res) => (res.code ? resolve(res.code) : reject(new Error(res.errMsg))),
      fail: (err) => reject(new Error(err?.errMsg ?? 'login:fail')),
    })
  })
}

function currentRoute(): string {
  const pages = getCurrentPages()
  const page = pages[pages.length - 1] as { route?: string } | undefined
  return page?.route ? '/' + page.route : ''
}

let silentLogin: Promise<boolean> | null = null

export const useSessionStore = defineStore('session', {
  state: () => ({
    token: tokenStore.get() as string | null,
    contact: null as Contact | null,
    /** A WeChat login that failed (no network, server not configured) */
    loginError: '' as string,
    signedOut: !!uni.getStorageSync(SIGNED_OUT_KEY),
  }),
  getters: {
    loggedIn: (state) => !!state.token,
  },
  actions: {
    /** Keep a new session: its token in storage, sent as a header */
    open(session: Schemas['CustomerSession']) {
      this.token = session.token
      this.contact = session.customer.contact
      this.loginError = ''
      this.signedOut = false
      uni.removeStorageSync(SIGNED_OUT_KEY)
      tokenStore.set(session.token)
    },
    close() {
      this.token = null
      this.contact = null
      tokenStore.set(null)
      clearFileCache()
    },
    /** WeChat: log in without asking anything; one login at a time */
    loginSilently(): Promise<boolean> {
      if (!silentLogin) {
        silentLogin = (async () => {
          try {
            this.open(await api.wechatLogin(await wechatCode()))
            return true
          } catch (error) {
            this.loginError = error instanceof Error ? error.message : String(error)
            return false
          } finally {
            silentLogin = null
          }
        })()
      }
      return silentLogin
    },
    /** Whether there is a session, logging in silently on WeChat */
    async ensure(): Promise<boolean> {
      if (this.token) return true
      if (isWeChat() && !this.signedOut) return this.loginSilently()
      return false
    },
    /** A page that needs the customer: true when logged in; on H5 the
     * login page is opened otherwise (it comes back here after) */
    async require(): Promise<boolean> {
      if (await this.ensure()) return true
      if (!isWeChat() && currentRoute() !== LOGIN_PAGE) {
        uni.navigateTo({ url: LOGIN_PAGE })
      }
      return false
    },
    async sendCode(phone: string) {
      await api.devCode(phone)
    },
    async loginWithCode(phone: string, code: string) {
      this.open(await api.devLogin(phone, code))
    },
    async logout() {
      try {
        await api.logout()
      } catch (error) {
        // The session is forgotten here whatever the server says
        if (!(error instanceof ApiError)) throw error
      }
      this.close()
      this.signedOut = true
      uni.setStorageSync(SIGNED_OUT_KEY, '1')
    },
    /** The server ended the session (401) */
    expired() {
      this.close()
      if (isWeChat()) {
        void this.loginSilently()
      } else if (currentRoute() !== LOGIN_PAGE) {
        uni.navigateTo({ url: LOGIN_PAGE })
      }
    },
  },
})

/** Wire the client's 401 to the store (once, at start) */
export function installSession(store = useSessionStore()): void {
  onUnauthorized(() => store.expired())
}
