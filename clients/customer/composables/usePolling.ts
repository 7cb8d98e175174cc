// Reading a page's data again now and then while it is in front: started
// when the page shows (onShow: also when the app comes back to the front),
// stopped when it hides or closes.
import { onHide, onShow, onUnload } from '@dcloudio/uni-app'

export const REFRESH_MS = 15000

export function usePolling(refresh: () => Promise<unknown> | void, every = REFRESH_MS) {
  let timer: ReturnType<typeof setInterval> | null = null
  let busy = false

  async function tick() {
    if (busy) return
    busy = true
    try {
      await refresh()
    } finally {
      busy = false
    }
  }

  function stop() {
    if (timer) clearInterval(timer)
    timer = null
  }

  function start() {
    stop()
    timer = setInterval(() => void tick(), every)
  }

  onShow(() => {
    void tick()
    start()
  })
  onHide(stop)
  onUnload(stop)

  return { start, stop, tick }
}
