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

export type Translate = (key: string, vars?: Record<string, string | number>) => string

export type { Locale }
