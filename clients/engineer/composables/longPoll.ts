// The long poll of new notifications (GET /engineer/notifications/wait):
// one request at a time, each waiting up to `timeout` seconds on the
// server, again at once after each answer, while the app is in front. After
// an error it waits 1 s, 2 s, 4 s… up to a minute (with jitter) before it
// asks again; a 401 stops it (the session is over). Stopping (the app goes
// to the background) drops the answer of the request under way: the next
// start asks again from the same id, so nothing is missed.
import { ApiError, type Schemas } from '@instrument/shared'

export type WaitAnswer = Schemas['NotificationWait']

export interface LongPollOptions {
  /** One long poll: the notifications after `after`, waiting up to timeout s */
  wait(after: number, timeout: number): Promise<WaitAnswer>
  /** The greatest notification id seen */
  after(): number
  /** New notifications (possibly none, at a timeout) */
  onAnswer(answer: WaitAnswer): void | Promise<void>
  /** An error, and the delay before the next attempt (ms) */
  onError?(error: unknown, delay: number): void
  /** The session is over (401): the loop has stopped */
  onUnauthorized?(): void
  /** Seconds the server waits (25) */
  timeout?: number
  /** First back-off (1 s) and the longest (60 s), in ms */
  firstDelay?: number
  maxDelay?: number
  /** An answer quicker than this (ms) waits the rest before the next request,
   * so that a server that never waits is not asked in a tight loop */
  minInterval?: number
  random?(): number
  now?(): number
  sleep?(ms: number): Promise<void>
}

export interface LongPoll {
  start(): void
  stop(): void
  readonly running: boolean
  /** Errors in a row since the last answer */
  readonly failures: number
}

/** The wait after `failures` errors in a row: first·2^(n-1) up to max, ±20 % */
export function retryDelay(failures: number, first: number, max: number, random: () => number): number {
  const base = Math.min(first * 2 ** Math.max(0, failures - 1), max)
  return Math.round(base * (0.8 + 0.4 * random()))
}

export function createLongPoll(options: LongPollOptions): LongPoll {
  const timeout = options.timeout ?? 25
  const first = options.firstDelay ?? 1000
  const max = options.maxDelay ?? 60000
  const minInterval = options.minInterval ?? 1000
  const random = options.random ?? Math.random
  const now = options.now ?? (() => Date.now())
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  // Each start is a generation: a loop of an older one ends at its next step
  let generation = 0
  let running = false
  let failures = 0

  async function loop(mine: number) {
    const alive = () => running && generation === mine
    while (alive()) {
      const started = now()
      try {
        const answer = await options.wait(options.after(), timeout)
        if (!alive()) return
        failures = 0
        await options.onAnswer(answer)
        const spent = now() - started
        if (!answer.items.length && spent < minInterval) await sleep(minInterval - spent)
      } catch (error) {
        if (!alive()) return
        if (error instanceof ApiError && error.status === 401) {
          running = false
          options.onUnauthorized?.()
          return
        }
        failures++
        const delay = retryDelay(failures, first, max, random)
        options.onError?.(error, delay)
        await sleep(delay)
      }
    }
  }

  return {
    start() {
      if (running) return
      running = true
      generation++
      void loop(generation)
    },
    stop() {
      running = false
      generation++
    },
    get running() {
      return running
    },
    get failures() {
      return failures
    },
  }
}
