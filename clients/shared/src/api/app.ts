// An app's one client of the API: the session's token kept in storage, the
// phone's language, the app's text of a network failure, and what a 401
// means in the app (set later by its session store, onUnauthorized).
import type { I18n } from '../i18n'
import { createClient, type Client } from './client'
import { createApi, type Api } from './endpoints'

/** A token kept in uni storage under `key` (null: none) */
export function tokenStorage(key: string) {
  return {
    get(): string | null {
      try {
        return uni.getStorageSync(key) || null
      } catch {
        return null
      }
    },
    set(token: string | null): void {
      if (token) uni.setStorageSync(key, token)
      else uni.removeStorageSync(key)
    },
  }
}

export type TokenStore = ReturnType<typeof tokenStorage>

export interface AppApi {
  client: Client
  api: Api
  tokenStore: TokenStore
  /** What to do when the server says the session is over (the session store) */
  onUnauthorized(handler: () => void): void
}

/** The client and the typed API of an app: the token under `tokenKey`
 * ('session.token'), messages and language from `i18n` (the network
 * failure's text is the app's `error.network`) */
export function createAppApi(options: { baseUrl: string; i18n: I18n; tokenKey?: string }): AppApi {
  const { i18n } = options
  const tokenStore = tokenStorage(options.tokenKey ?? 'session.token')
  let unauthorizedHandler: (() => void) | null = null
  const client = createClient({
    baseUrl: options.baseUrl,
    token: () => tokenStore.get(),
    language: () => i18n.apiLanguage(),
    networkMessage: () => i18n.t('error.network'),
    onUnauthorized: () => unauthorizedHandler?.(),
  })
  return {
    client,
    api: createApi(client),
    tokenStore,
    onUnauthorized(handler) {
      unauthorizedHandler = handler
    },
  }
}
