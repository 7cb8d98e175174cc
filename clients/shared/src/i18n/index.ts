// Messages in the phone's language: zh-CN or en. The API takes the same
// choice as Accept-Language (zh_CN or en, apiLanguage()).
import { sharedMessages } from './messages'

export { sharedMessages } from './messages'
export type { SharedMessageKey } from './messages'

export type Locale = 'zh-CN' | 'en'
export type ApiLanguage = 'zh_CN' | 'en'
export type Messages = Record<string, string>
export type Vars = Record<string, string | number | null | undefined>

export interface I18n {
  readonly locale: Locale
  t(key: string, vars?: Vars): string
  apiLanguage(): ApiLanguage
}

/** `{name}` replaced by vars.name; a placeholder without a value stays */
export function interpolate(text: string, vars?: Vars): string {
  if (!vars) return text
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name]
    return value === undefined || value === null ? whole : String(value)
  })
}

/** The locale of a language tag: zh, zh_CN, zh-Hans, zh-TW... are Chinese,
 * any other known language English; nothing known is Chinese (the app's
 * users are in China) */
export function localeOf(language: string | null | undefined): Locale {
  if (!language) return 'zh-CN'
  return language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}

/** The phone's language: uni.getAppBaseInfo (WeChat, H5, app), then
 * getSystemInfoSync, then the browser's */
export function detectLocale(): Locale {
  let language: string | undefined
  try {
    if (typeof uni !== 'undefined') {
      const getAppBaseInfo = (uni as { getAppBaseInfo?: () => { language?: string } })
        .getAppBaseInfo
      language = getAppBaseInfo ? getAppBaseInfo().language : undefined
      if (!language && typeof uni.getSystemInfoSync === 'function') {
        language = uni.getSystemInfoSync().language
      }
    }
  } catch {
    // Not available on this platform: fall through
  }
  if (!language && typeof navigator !== 'undefined') {
    language = navigator.language
  }
  return localeOf(language)
}

let current: I18n | null = null

/** The app's messages over the shared ones; a key missing in English falls
 * back to Chinese, then to the key itself. The last one created is the one
 * the shared components use (currentI18n). */
export function createI18n(
  messages: { 'zh-CN': Messages; en: Messages },
  locale: Locale = detectLocale(),
): I18n {
  const table: Messages = { ...sharedMessages[locale], ...messages[locale] }
  const fallback: Messages = { ...sharedMessages['zh-CN'], ...messages['zh-CN'] }
  const i18n: I18n = {
    locale,
    t(key, vars) {
      return interpolate(table[key] ?? fallback[key] ?? key, vars)
    },
    apiLanguage() {
      return locale === 'en' ? 'en' : 'zh_CN'
    },
  }
  current = i18n
  return i18n
}

/** The i18n the app created (createI18n), or the shared messages in the
 * phone's language when the app has created none */
export function currentI18n(): I18n {
  return current ?? createI18n({ 'zh-CN': {}, en: {} })
}
