// The tab bar's texts in the phone's language: called from each tab page's
// onShow (@instrument/shared tabBarLocalizer)
import { tabBarLocalizer } from '@instrument/shared'
import { i18n } from '@/locale'

export const localizeTabBar = tabBarLocalizer(i18n, ['tab.inbox', 'tab.tasks', 'tab.me'])
