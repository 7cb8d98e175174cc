// WeChat's privacy agreement: the first private API (album, camera, files)
// makes WeChat call the handler of wx.onNeedPrivacyAuthorization and wait.
// The app then shows its pop-up (PrivacyPopup), whose agree button has
// open-type="agreePrivacyAuthorization"; the answer goes back to WeChat,
// which goes on with the API call or refuses it.
import { reactive } from 'vue'
import { isWeChat } from '@instrument/shared'

type PrivacyAnswer = { event: 'agree'; buttonId: string } | { event: 'disagree' }
type Resolve = (answer: PrivacyAnswer) => void

interface WxPrivacy {
  onNeedPrivacyAuthorization?(handler: (resolve: Resolve, eventInfo?: { referrer: string }) => void): void
}

declare const wx: WxPrivacy | undefined

export const privacyState = reactive({ visible: false })

let pending: Resolve | null = null
let installed = false

function wxApi(): WxPrivacy | undefined {
  return typeof wx !== 'undefined' ? wx : undefined
}

/** Listen for WeChat's request (once, at start; WeChat only) */
export function installPrivacyHandler(): boolean {
  const api = wxApi()
  if (installed || !isWeChat() || !api?.onNeedPrivacyAuthorization) return false
  api.onNeedPrivacyAuthorization((resolve) => {
    // A request while one waits: the last one is answered
    pending = resolve
    privacyState.visible = true
  })
  installed = true
  return true
}

/** The person agreed (the tap of the open-type="agreePrivacyAuthorization" button) */
export function agreePrivacy(buttonId: string): void {
  pending?.({ event: 'agree', buttonId })
  pending = null
  privacyState.visible = false
}

export function declinePrivacy(): void {
  pending?.({ event: 'disagree' })
  pending = null
  privacyState.visible = false
}

/** For tests: forget the handler */
export function resetPrivacy(): void {
  pending = null
  installed = false
  privacyState.visible = false
}
