// The app's one client of the API: the device session's token, the phone's
// language, and what a 401 means here (the session store decides). The
// server's origin: '' on H5 (served by the API's own server at /engineer/);
// the mini-program and the app need a full origin (VITE_API_ORIGIN).
import { createAppApi, type Api, type Client, type Schemas } from '@instrument/shared'
import { i18n } from '@/locale'
import { platform } from '@/utils/platform'

function defaultOrigin(): string {
  const configured = import.meta.env.VITE_API_ORIGIN as string | undefined
  if (configured) return configured
  // WeChat DevTools ("不校验合法域名") or an emulator against a local server
  return platform() === 'h5' ? '' : 'http://127.0.0.1:8000'
}

const app = createAppApi({ baseUrl: defaultOrigin(), i18n, tokenKey: 'session.token' })

export const client: Client = app.client
export const api: Api = app.api
export const tokenStore = app.tokenStore
/** What to do when the server says the session is over (the session store) */
export const onUnauthorized = app.onUnauthorized

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
