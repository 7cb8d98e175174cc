// The app's one client of the API: the device session's token, the phone's
// language, and what a 401 means here (the session store decides). The
// server's origin: '' on H5 (served by the API's own server at /engineer/);
// the mini-program and the app need a full origin (VITE_API_ORIGIN).
import { createApi, createClient, type Api, type Client, type Schemas } from '@instrument/shared'
import { i18n } from '@/locale'
import { platform } from '@/utils/platform'

const TOKEN_KEY = 'session.token'

function defaultOrigin(): string {
  const configured = import.meta.env.VITE_API_ORIGIN as string | undefined
  if (configured) return configured
  // WeChat DevTools ("不校验合法域名") or an emulator against a local server
  return platform() === 'h5' ? '' : 'http://127.0.0.1:8000'
}

let unauthorizedHandler: (() => void) | null = null

/** What to do when the server says the session is over (the session store) */
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

/** The engineers' WeChat (the engineers' own mini-program), beside the
 * shared calls */
export const wechatApi = {
  /** Bind the WeChat of this mini-program to the logged-in engineer */
  link: (code: string) =>
    client.post<void>('/auth/wechat/link', { code } satisfies Schemas['WeChatLogin']),
  unlink: () => client.post<void>('/auth/wechat/unlink', {}),
  /** A device session opened by WeChat; 401 wechat_not_linked when nobody
   * linked this WeChat */
  login: (code: string, deviceName?: string) => {
    const body: Schemas['EngineerWeChatLogin'] = { code }
    if (deviceName) body.device_name = deviceName
    return client.post<Schemas['EngineerSession']>('/auth/wechat/engineer', body)
  },
}
