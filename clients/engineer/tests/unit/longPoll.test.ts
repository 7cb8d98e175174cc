// New offers arrive without a refresh: one long poll at a time, asked again
// at once after each answer from the greatest id seen, backing off 1 s, 2 s,
// 4 s… up to a minute after errors, stopped in the background (and by a
// 401); each new notice reads the offers again, a new offer rings, the tab
// shows the unread count.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError } from '@instrument/shared'
import { createLongPoll, retryDelay, type WaitAnswer } from '@/composables/longPoll'
import { useInboxStore } from '@/stores/inbox'
import { useOfflineStore } from '@/services/outbox'
import { MemoryStore } from '@instrument/shared'
import { serve, uniMock } from './setup'

const notice = (id: number, label = '新订单') => ({
  id, label: `${label} ${id}`, description: null, unread: true, order_id: 100 + id, created_at: '2026-12-05T10:00:00+08:00',
})

/** A controllable wait(): each call waits for the test to answer it */
function waits() {
  const calls: Array<{ after: number; resolve(answer: WaitAnswer): void; reject(error: unknown): void }> = []
  const wait = vi.fn((after: number) => new Promise<WaitAnswer>((resolve, reject) => { calls.push({ after, resolve, reject }) }))
  return { calls, wait }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('the loop', () => {
  it('asks again at once from the greatest id seen', async () => {
    vi.useFakeTimers()
    const { calls, wait } = waits()
    let last = 7
    const answers: WaitAnswer[] = []
    const poll = createLongPoll({
      wait, after: () => last, minInterval: 0,
      onAnswer: (answer) => {
        answers.push(answer)
        for (const item of answer.items) last = Math.max(last, item.id)
      },
    })
    poll.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(calls.map((call) => call.after)).toEqual([7])
    expect(wait.mock.calls[0][1]).toBe(25)
    calls[0].resolve({ items: [notice(8), notice(9)], unread: 2 })
    await vi.advanceTimersByTimeAsync(0)
    expect(calls.map((call) => call.after)).toEqual([7, 9])
    calls[1].resolve({ items: [], unread: 2 })
    await vi.advanceTimersByTimeAsync(0)
    expect(calls).toHaveLength(3)
    expect(answers).toHaveLength(2)
    poll.stop()
  })

  it('backs off 1 s, 2 s, 4 s… up to a minute after errors, and starts over after an answer', async () => {
    vi.useFakeTimers()
    const { calls, wait } = waits()
    const delays: number[] = []
    const poll = createLongPoll({
      wait, after: () => 0, random: () => 0.5, minInterval: 0,
      onAnswer: () => undefined, onError: (_, delay) => delays.push(delay),
    })
    poll.start()
    for (let n = 0; n < 8; n++) {
      await vi.advanceTimersByTimeAsync(0)
      calls[n].reject(new ApiError(0, 'network', 'no network'))
      await vi.advanceTimersByTimeAsync(0)
      expect(calls).toHaveLength(n + 1)
      await vi.advanceTimersByTimeAsync(delays[n])
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000])
    expect(poll.failures).toBe(8)
    calls[8].resolve({ items: [], unread: 0 })
    await vi.advanceTimersByTimeAsync(0)
    expect(poll.failures).toBe(0)
    calls[9].reject(new ApiError(503, 'busy', 'busy'))
    await vi.advanceTimersByTimeAsync(0)
    expect(delays[8]).toBe(1000)
    poll.stop()
  })

  it('jitters each back-off by ±20 %', () => {
    expect(retryDelay(3, 1000, 60000, () => 0)).toBe(3200)
    expect(retryDelay(3, 1000, 60000, () => 0.999999)).toBe(4800)
    expect(retryDelay(20, 1000, 60000, () => 0.5)).toBe(60000)
  })

  it('stops in the background: the answer under way is dropped, nothing is asked until started again', async () => {
    vi.useFakeTimers()
    const { calls, wait } = waits()
    const onAnswer = vi.fn()
    const poll = createLongPoll({ wait, after: () => 3, onAnswer, minInterval: 0 })
    poll.start()
    await vi.advanceTimersByTimeAsync(0)
    poll.stop()
    calls[0].resolve({ items: [notice(4)], unread: 1 })
    await vi.advanceTimersByTimeAsync(120000)
    expect(onAnswer).not.toHaveBeenCalled()
    expect(calls).toHaveLength(1)
    // Back in front: asked again from the same id, nothing missed
    poll.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(calls.map((call) => call.after)).toEqual([3, 3])
    poll.stop()
  })

  it('stops on a 401 (the session is over)', async () => {
    vi.useFakeTimers()
    const { calls, wait } = waits()
    const onUnauthorized = vi.fn()
    const poll = createLongPoll({ wait, after: () => 0, onAnswer: () => undefined, onUnauthorized })
    poll.start()
    await vi.advanceTimersByTimeAsync(0)
    calls[0].reject(new ApiError(401, 'unauthorized', 'expired'))
    await vi.advanceTimersByTimeAsync(60000)
    expect(onUnauthorized).toHaveBeenCalledOnce()
    expect(poll.running).toBe(false)
    expect(calls).toHaveLength(1)
  })

  it('does not spin when a server answers at once with nothing', async () => {
    vi.useFakeTimers()
    const wait = vi.fn().mockResolvedValue({ items: [], unread: 0 })
    const poll = createLongPoll({ wait, after: () => 0, onAnswer: () => undefined })
    poll.start()
    await vi.advanceTimersByTimeAsync(5000)
    expect(wait.mock.calls.length).toBeLessThanOrEqual(6)
    poll.stop()
  })
})

describe('the inbox while the app is in front', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    useOfflineStore(new MemoryStore())
  })

  it('brings a new offer at once: listed, a sound and a vibration, the badge', async () => {
    vi.useFakeTimers()
    let offers = [{ id: 54, number: 'FW1', title: '仪器维修 · pH计' }]
    const pending: Array<(answer: WaitAnswer) => void> = []
    const seen = serve(({ url }) => {
      if (url.includes('/notifications/wait')) {
        return new Promise((resolve) => pending.push((answer) => resolve({ statusCode: 200, data: answer })))
      }
      if (url.includes('/engineer/inbox')) return { statusCode: 200, data: { items: offers, page: 1, page_size: 50, total: offers.length } }
      if (url.includes('/engineer/notifications')) {
        return { statusCode: 200, data: { items: [notice(5)], page: 1, page_size: 20, total: 1, unread: 1 } }
      }
      return { statusCode: 404, data: { error: { code: 'not_found', message: '' } } }
    })
    const audio = { src: '', play: vi.fn(), stop: vi.fn() }
    uniMock.createInnerAudioContext.mockReturnValue(audio)
    const inbox = useInboxStore()
    await inbox.start()
    await inbox.loadOffers()
    await vi.advanceTimersByTimeAsync(0)
    expect(seen.filter((request) => request.url.includes('/wait')).map((request) => request.url))
      .toEqual([expect.stringContaining('after=5&timeout=25')])
    expect(uniMock.setTabBarBadge).toHaveBeenLastCalledWith(expect.objectContaining({ index: 0, text: '1' }))
    expect(audio.play).not.toHaveBeenCalled()

    // A customer orders: the server answers the long poll
    offers = [{ id: 78, number: 'FW2', title: '仪器保养 · 天平' }, ...offers]
    pending[0]({ items: [notice(6)], unread: 2 })
    await vi.advanceTimersByTimeAsync(0)
    await vi.advanceTimersByTimeAsync(0)
    expect(inbox.offers.map((offer) => offer.id)).toEqual([78, 54])
    expect(inbox.notices.map((item) => item.id)).toEqual([6, 5])
    expect(audio.play).toHaveBeenCalledOnce()
    expect(uniMock.vibrateShort).toHaveBeenCalledOnce()
    expect(uniMock.setTabBarBadge).toHaveBeenLastCalledWith(expect.objectContaining({ text: '2' }))
    // Already waiting again, after the new id
    expect(seen.filter((request) => request.url.includes('/wait')).at(-1)!.url).toContain('after=6')

    // A notice that is no new offer (the customer confirmed a quote): no sound
    pending[1]({ items: [notice(7, '客户已确认报价')], unread: 3 })
    await vi.advanceTimersByTimeAsync(0)
    await vi.advanceTimersByTimeAsync(0)
    expect(audio.play).toHaveBeenCalledOnce()

    // The app goes to the background
    inbox.stop()
    const asked = seen.filter((request) => request.url.includes('/wait')).length
    pending[2]({ items: [], unread: 3 })
    await vi.advanceTimersByTimeAsync(60000)
    expect(seen.filter((request) => request.url.includes('/wait')).length).toBe(asked)
  })

  it('marks a notice read when opened, and the badge follows', async () => {
    serve(({ url }) => (url.endsWith('/notifications/5/read') ? { statusCode: 200, data: { unread: 0 } } : null))
    const inbox = useInboxStore()
    inbox.notices = [notice(5)]
    inbox.unread = 1
    await inbox.markRead(inbox.notices[0])
    expect(inbox.notices[0].unread).toBe(false)
    expect(inbox.unread).toBe(0)
    expect(uniMock.removeTabBarBadge).toHaveBeenCalled()
  })
})
