// The app's one client of the API: the token of the session, the phone's
// language, and what a 401 means here (a silent WeChat login again, or the
// login page on H5). The server's origin: '' on H5 (served by the API's own
// server at /h5/); the mini-program needs a full origin (VITE_API_ORIGIN).
import { createApi, createClient, isWeChat, type Api, type Client } from '@instrument/shared'
import { i18n } from '@/locale'

const TOKEN_KEY = 'session.token'

function defaultOrigin(): string {
  const configured = import.meta.env.VITE_API_ORIGIN as string | undefined
  if (configured) return configured
  // WeChat DevTools against a local server ("不校验合法域名" ticked)
  return isWeChat() ? 'http://127.0.0.1:8000' : ''
}

let unauthorizedHandler: (() => void) | null = null

/** What to do when the server says the session is over (set by the session store) */
export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler
}

export const tokenStore = {
  get(): string | null {
    try {
      return uni.getStorageSync(TOKEN_KEY) || null
    } catch {
      return null
    }
  },
  set(token: string | null): void {
    if (token) uni.setStorageSync(TOKEN_KEY, token)
    else uni.removeStorageSync(TOKEN_KEY)
  },
}

export const client: Client = createClient({
  baseUrl: defaultOrigin(),
  token: () => tokenStore.get(),
  language: () => i18n.apiLanguage(),
  networkMessage: () => i18n.t('error.network'),
  onUnauthorized: () => unauthorizedHandler?.(),
})

export const api: Api = createApi(client)
