// WeChat's privacy agreement (__usePrivacyCheck__): the first private API
// (location, camera, album, files) makes WeChat call the handler given to
// wx.onNeedPrivacyAuthorization and wait; the app shows PrivacyPopup, whose
// agree button is WeChat's own (open-type="agreePrivacyAuthorization"), and
// gives the answer back.
import { reactive } from 'vue'
import { platform } from '@/utils/platform'

type Answer = { event: 'agree'; buttonId: string } | { event: 'disagree' }
type Resolve = (answer: Answer) => void

interface WxPrivacy {
  onNeedPrivacyAuthorization?(handler: (resolve: Resolve) => void): void
}
declare const wx: WxPrivacy | undefined

export const privacy = reactive({ asking: false })

let waiting: Resolve | null = null
let listening = false

/** Listen for WeChat's request (once, at launch) */
export function listenForPrivacy(): boolean {
  const api = typeof wx !== 'undefined' ? wx : undefined
  if (listening || platform() !== 'mp-weixin' || !api?.onNeedPrivacyAuthorization) return false
  api.onNeedPrivacyAuthorization((resolve) => {
    waiting = resolve
    privacy.asking = true
  })
  listening = true
  return true
}

export function answerPrivacy(agreed: boolean, buttonId = 'agree-privacy'): void {
  waiting?.(agreed ? { event: 'agree', buttonId } : { event: 'disagree' })
  waiting = null
  privacy.asking = false
}

/** Tests: forget the handler */
export function forgetPrivacy(): void {
  waiting = null
  listening = false
  privacy.asking = false
}
