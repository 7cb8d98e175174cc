// The app's messages in the phone's language (zh-CN or en), over the shared
// package's; wot-design-uni's own texts (pickers, dialogs) follow.
import { createI18n, type Locale } from '@instrument/shared'
import { Locale as WotLocale } from 'wot-design-uni/locale'
import enUS from 'wot-design-uni/locale/lang/en-US'
import zhCN from './zh-CN'
import en from './en'

export const messages = { 'zh-CN': zhCN, en }

export const i18n = createI18n(messages)

if (i18n.locale === 'en') WotLocale.use('en-US', enUS)

export const t = i18n.t

/** A text of the API given in both languages ({zh_CN, en}) in the app's */
export function pick(label: { zh_CN: string; en: string } | null | undefined): string {
  if (!label) return ''
  return i18n.locale === 'en' ? label.en || label.zh_CN : label.zh_CN || label.en
}

export type { Locale }
