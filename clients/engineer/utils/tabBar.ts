// The tab bar's texts in the phone's language (pages.json has the Chinese
// ones). uni sets a tab's text only once a tab page shows: called from each
// tab page's onShow.
import { i18n, t } from '@/locale'

const TABS = ['tab.inbox', 'tab.tasks', 'tab.me']
let done = false

export function localizeTabBar(): void {
  if (done || i18n.locale === 'zh-CN') return
  done = true
  TABS.forEach((key, index) => {
    uni.setTabBarItem({ index, text: t(key), fail: () => { done = false } })
  })
}
