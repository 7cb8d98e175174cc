// A new offer while the app is open: a short sound (static/sounds/offer.wav,
// drawn by scripts/make_assets.py) and a short vibration. Either may be
// refused by the platform (a browser plays sound only after the page was
// touched; no vibrator): the offer shows anyway.
import { platform } from '@/utils/platform'

let audio: UniApp.InnerAudioContext | null = null

function soundPath(): string {
  // H5 is served under a prefix (/engineer/): relative to the page
  return platform() === 'h5' ? './static/sounds/offer.wav' : '/static/sounds/offer.wav'
}

export function alertNewOffer(): void {
  try {
    uni.vibrateShort({ type: 'heavy', fail: () => undefined } as UniApp.VibrateShortOptions)
  } catch {
    // No vibrator
  }
  try {
    if (!audio) {
      audio = uni.createInnerAudioContext()
      audio.src = soundPath()
      // With the phone's silent switch (iOS WeChat), stay silent
      ;(audio as { obeyMuteSwitch?: boolean }).obeyMuteSwitch = true
    }
    audio.stop()
    audio.play()
  } catch {
    // No sound: the vibration and the list say it
  }
}
