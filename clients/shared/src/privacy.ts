// WeChat's privacy agreement (__usePrivacyCheck__): the first private API
// (location, camera, album, files) makes WeChat call the handler given to
// wx.onNeedPrivacyAuthorization and wait. The app then shows PrivacyPopup
// (components/PrivacyPopup.vue), whose agree button is WeChat's own
// (open-type="agreePrivacyAuthorization"); the answer goes back to WeChat,
// which goes on with the API call or refuses it.
import { reactive } from 'vue'
import { isWeChat } from './platform'

export type PrivacyAnswer = { event: 'agree'; buttonId: string } | { event: 'disagree' }
type Resolve = (answer: PrivacyAnswer) => void

interface WxPrivacy {
  onNeedPrivacyAuthorization?(handler: (resolve: Resolve, eventInfo?: { referrer: string }) => void): void
}

declare const wx: WxPrivacy | undefined

/** visible: WeChat waits for the answer (PrivacyPopup shows) */
export const privacyState = reactive({ visible: false })

let pending: Resolve | null = null
let installed = false

function wxApi(): WxPrivacy | undefined {
  return typeof wx !== 'undefined' ? wx : undefined
}

/** Listen for WeChat's request (once, at launch; WeChat only): true when
 * it now listens */
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

/** The person agreed (the tap of the open-type="agreePrivacyAuthorization"
 * button, whose id WeChat wants back) */
export function agreePrivacy(buttonId = 'agree-privacy'): void {
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
