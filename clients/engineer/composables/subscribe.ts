// WeChat subscription messages of the engineers' mini-program: the notices
// a closed mini-program still gets (new offers, withdrawn offers, the
// customer's answers, cancellations, assignments). Each grant of a template
// is one message. WeChat lets the app ask only inside a tap, at most 5
// templates a call: the app asks on the taps the engineer makes anyway
// (accept, submit a step), with the ids of GET /config
// wechat.engineer_templates. WeChat never says how many grants are left;
// the app counts the grants it got and the notices that came since, and
// says when none should be left.
import { storage, type Schemas } from '@instrument/shared'
import { platform } from '@/utils/platform'

export const MAX_TEMPLATES = 5
const LEDGER_KEY = 'subscribe.ledger'
// A dialog nobody answers does not hold the tap forever
const ANSWER_WAIT_MS = 30000

export interface Ledger {
  /** Grants obtained (each 'accept' of a template) */
  granted: number
  /** Notices received since counting began */
  used: number
}

export function templateIds(config: Schemas['ClientConfig'] | null | undefined): string[] {
  const ids = Object.values(config?.wechat?.engineer_templates ?? {})
  return [...new Set(ids.filter((id) => typeof id === 'string' && id))].slice(0, MAX_TEMPLATES)
}

export function ledger(): Ledger {
  return storage.get<Ledger>(LEDGER_KEY) ?? { granted: 0, used: 0 }
}

/** Alerts that should be left (an estimate: a notice of a template with no
 * grant uses none) */
export function alertsLeft(current: Ledger = ledger()): number {
  return Math.max(0, current.granted - current.used)
}

function record(change: Partial<Ledger>): Ledger {
  const current = ledger()
  const next = { granted: current.granted + (change.granted ?? 0), used: current.used + (change.used ?? 0) }
  // Start counting afresh once everything granted is used
  if (next.used >= next.granted) {
    next.used = 0
    next.granted = 0
  }
  storage.set(LEDGER_KEY, next)
  return next
}

/** Notices came: as many grants used (at most) */
export function noticesReceived(count: number): Ledger {
  return record({ used: count })
}

/** Ask for the templates now: call it synchronously in the tap's handler,
 * before anything is awaited. Resolves with the grants obtained (0 when not
 * on WeChat, no template, refused or failed), never rejects. */
export function requestAlerts(config: Schemas['ClientConfig'] | null | undefined): Promise<number> {
  const tmplIds = templateIds(config)
  if (platform() !== 'mp-weixin' || !tmplIds.length) return Promise.resolve(0)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(0), ANSWER_WAIT_MS)
    const done = (result: Record<string, string> | null) => {
      clearTimeout(timer)
      const granted = result ? tmplIds.filter((id) => result[id] === 'accept').length : 0
      if (granted) record({ granted })
      resolve(granted)
    }
    try {
      uni.requestSubscribeMessage({
        tmplIds,
        success: (result: Record<string, string>) => done(result),
        fail: () => done(null),
      } as unknown as UniApp.RequestSubscribeMessageOption)
    } catch {
      done(null)
    }
  })
}
