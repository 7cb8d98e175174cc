// WeChat subscription messages: asked in the tap that submits an order
// (WeChat allows the request only inside a tap), with at most 5 template
// ids a call, those of GET /config wechat.subscribe_templates in the order
// given. Whatever the answer (a refusal, an error, no answer), the order
// goes on.
import { isWeChat, type Schemas } from '@instrument/shared'

export const MAX_TEMPLATES = 5
// A dialog nobody answers does not hold the page forever
const ANSWER_WAIT_MS = 30000

export function templateIds(config: Schemas['ClientConfig'] | null | undefined): string[] {
  const ids = Object.values(config?.wechat?.subscribe_templates ?? {})
  return [...new Set(ids.filter((id) => typeof id === 'string' && id))].slice(0, MAX_TEMPLATES)
}

/** Ask now (call it synchronously in the tap's handler); the promise
 * resolves when the person answered, always, never rejecting */
export function requestSubscriptions(config: Schemas['ClientConfig'] | null | undefined): Promise<void> {
  const tmplIds = templateIds(config)
  if (!isWeChat() || !tmplIds.length) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ANSWER_WAIT_MS)
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    try {
      uni.requestSubscribeMessage({
        tmplIds,
        success: done,
        fail: done,
      } as UniApp.RequestSubscribeMessageOption)
    } catch {
      done()
    }
  })
}
