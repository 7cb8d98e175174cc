// The tab bar's texts in the phone's language (pages.json has the Chinese
// ones). uni sets a tab's text only once a tab page shows: an app calls the
// function made here from each tab page's onShow.
import type { I18n } from './i18n'

/** Sets the tabs' texts (the messages `keys`, in the tab bar's order) once,
 * when the phone's language is not Chinese; again at the next call when
 * uni refused */
export function tabBarLocalizer(i18n: I18n, keys: readonly string[]): () => void {
  let done = false
  return () => {
    if (done || i18n.locale === 'zh-CN') return
    done = true
    keys.forEach((key, index) => {
      uni.setTabBarItem({ index, text: i18n.t(key), fail: () => { done = false } })
    })
  }
}
