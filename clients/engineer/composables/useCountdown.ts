// The time left to answer an offer (answer_by of GET /engineer/inbox),
// shown live: one clock ticking every second for every countdown on the
// page, running only while something shows it.
import { onUnmounted, ref, type Ref } from 'vue'
import type { Translate } from '@/locale'
import { parseISO } from '@/utils/time'

/** Milliseconds left until answerBy (negative once past); null without one */
export function remainingMs(answerBy: string | null | undefined, now: number): number | null {
  const deadline = parseISO(answerBy)
  return deadline === null ? null : deadline - now
}

export interface Countdown {
  /** No deadline, still time, or past it */
  state: 'none' | 'running' | 'overdue'
  /** Under 5 minutes: shown in red */
  urgent: boolean
  text: string
}

const URGENT_MS = 5 * 60 * 1000

function pad(value: number): string {
  return String(value).padStart(2, '0')
}

/** What an offer's card says of its deadline: "剩余 1小时05分 可接单",
 * "剩余 04分09秒 可接单" under an hour, or that it is past */
export function countdown(answerBy: string | null | undefined, now: number, t: Translate): Countdown {
  const left = remainingMs(answerBy, now)
  if (left === null) return { state: 'none', urgent: false, text: '' }
  if (left <= 0) return { state: 'overdue', urgent: true, text: t('offer.overdue') }
  const seconds = Math.ceil(left / 1000)
  const hours = Math.floor(seconds / 3600)
  const minutes = Math.floor((seconds % 3600) / 60)
  const time = hours
    ? t('offer.hours', { h: hours, m: pad(minutes) })
    : t('offer.minutes', { m: pad(minutes), s: pad(seconds % 60) })
  return { state: 'running', urgent: left < URGENT_MS, text: t('offer.left', { time }) }
}

// The shared clock: one interval for all the countdowns shown
const now = ref(Date.now())
let users = 0
let timer: ReturnType<typeof setInterval> | null = null

function tick() {
  now.value = Date.now()
}

/** The current time, updated every second while a component uses it */
export function useClock(): Ref<number> {
  users++
  if (!timer) {
    tick()
    timer = setInterval(tick, 1000)
  }
  onUnmounted(() => {
    users--
    if (!users && timer) {
      clearInterval(timer)
      timer = null
    }
  })
  return now
}
