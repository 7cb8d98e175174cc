// The app's one client of the API: the token of the session, the phone's
// language, and what a 401 means here (a silent WeChat login again, or the
// login page on H5). The server's origin: '' on H5 (served by the API's own
// server at /h5/); the mini-program needs a full origin (VITE_API_ORIGIN).
import { createAppApi, isWeChat, type Api, type Client } from '@instrument/shared'
import { i18n } from '@/locale'

function defaultOrigin(): string {
  const configured = import.meta.env.VITE_API_ORIGIN as string | undefined
  if (configured) return configured
  // WeChat DevTools against a local server ("不校验合法域名" ticked)
  return isWeChat() ? 'http://127.0.0.1:8000' : ''
}

const app = createAppApi({ baseUrl: defaultOrigin(), i18n, tokenKey: 'session.token' })

export const client: Client = app.client
export const api: Api = app.api
export const tokenStore = app.tokenStore
/** What to do when the server says the session is over (set by the session store) */
export const onUnauthorized = app.onUnauthorized
