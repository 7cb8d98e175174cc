// Page hooks both apps' pages use. Not in the package's index: it imports
// @dcloudio/uni-app, which only a page (or its build) has; import it by path:
//   import { refreshOnPullDown } from '@instrument/shared/src/pageHooks'
import { onPullDownRefresh } from '@dcloudio/uni-app'

/** The page's pull-down (pages.json enablePullDownRefresh) runs `refresh`,
 * then ends the spinner, whether it succeeded or not */
export function refreshOnPullDown(refresh: () => Promise<unknown> | unknown): void {
  onPullDownRefresh(async () => {
    try {
      await refresh()
    } finally {
      uni.stopPullDownRefresh()
    }
  })
}
