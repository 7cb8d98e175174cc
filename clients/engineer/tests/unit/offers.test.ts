// 接单 and 拒绝 go through the outbox: kept first, sent with an
// Idempotency-Key; another engineer's win (409 already_taken) is told and
// the offer leaves; without network the answer waits and goes later with the
// same key, once; a decline carries its reason.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { MemoryStore, type OutboxItem } from '@instrument/shared'
import { acceptOffer, declineOffer } from '@/composables/offerAnswers'
import { useOutboxStore } from '@/stores/outbox'
import { offline, useOfflineStore } from '@/services/outbox'
import { serve } from './setup'

const task = (id: number) => ({ id, number: 'FW' + id, progress: { actions: [], steps: [] } })

let store: MemoryStore

beforeEach(async () => {
  setActivePinia(createPinia())
  store = new MemoryStore()
  useOfflineStore(store)
  await useOutboxStore().init()
})

afterEach(() => {
  offline().outbox.stop()
  vi.useRealTimers()
})

describe('accepting an offer', () => {
  it('is kept, then sent with its Idempotency-Key; the task is mine', async () => {
    const seen = serve(({ url }) => (url.endsWith('/engineer/inbox/54/accept') ? { statusCode: 200, data: task(54) } : null))
    const outbox = useOutboxStore()
    const answer = await acceptOffer(outbox, 54)
    expect(answer.result).toBe('accepted')
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ method: 'POST' })
    const key = seen[0].header['Idempotency-Key']
    expect(key).toMatch(/^[0-9a-f-]{36}$/)
    expect(outbox.answerOf(54)).toMatchObject({ kind: 'accept', state: 'sent', key })
  })

  it('tells kindly when another engineer won, and drops the answer', async () => {
    serve(() => ({ statusCode: 409, data: { error: { code: 'already_taken', message: '订单已被其他工程师接走' } } }))
    const outbox = useOutboxStore()
    const answer = await acceptOffer(outbox, 54)
    expect(answer).toEqual({ result: 'taken', message: '订单已被其他工程师接走' })
    // Nothing left waiting that could never go
    expect(await offline().outbox.items(54)).toEqual([])
  })

  it('tells a withdrawn offer or a cancelled order with the server’s reason', async () => {
    serve(() => ({ statusCode: 403, data: { error: { code: 'forbidden', message: '推送已撤回' } } }))
    expect(await acceptOffer(useOutboxStore(), 55)).toEqual({ result: 'gone', message: '推送已撤回' })
  })

  it('waits without network, then goes once, with the same key, when the network is back', async () => {
    vi.useFakeTimers()
    let online = false
    const seen = serve(() => (online ? { statusCode: 200, data: task(54) } : null))
    const outbox = useOutboxStore()
    const answering = acceptOffer(outbox, 54, 5000)
    await vi.advanceTimersByTimeAsync(5000)
    const answer = await answering
    expect(answer.result).toBe('queued')
    // The shared client tries a keyed write 3 times, each with the key
    const keys = new Set(seen.map((request) => request.header['Idempotency-Key']))
    expect(keys.size).toBe(1)
    // Tried again now and then, never sent without network
    expect(['pending', 'sending']).toContain(outbox.answerOf(54)!.state)
    online = true
    await vi.advanceTimersByTimeAsync(5 * 60 * 1000)
    expect(outbox.answerOf(54)!.state).toBe('sent')
    const accepted = seen.filter((request) => request.header['Idempotency-Key'] === [...keys][0])
    expect(accepted.length).toBe(seen.length)
    // Sent once the network came back: never again
    const count = seen.length
    await vi.advanceTimersByTimeAsync(10 * 60 * 1000)
    expect(seen.length).toBe(count)
    offline().outbox.stop()
    vi.useRealTimers()
  })

  it('survives a restart of the app before it could be sent', async () => {
    serve(() => null)
    const first = await useOutboxStore().accept(54)
    // Tried, without network: waits (then the app is closed)
    expect((await useOutboxStore().settle(first.id, 5000)).state).toBe('waiting')
    offline().outbox.stop()
    // The app starts again on the same store
    setActivePinia(createPinia())
    useOfflineStore(store)
    const seen = serve(() => ({ statusCode: 200, data: task(54) }))
    const outbox = useOutboxStore()
    await outbox.init()
    await offline().outbox.flush()
    expect(seen.map((request) => request.header['Idempotency-Key'])).toEqual([first.key])
    expect(outbox.answerOf(54)!.state).toBe('sent')
  })
})

describe('declining an offer', () => {
  it('sends the reason through the outbox', async () => {
    const seen = serve(({ url }) => (url.endsWith('/engineer/inbox/69/decline') ? { statusCode: 204 } : null))
    const answer = await declineOffer(useOutboxStore(), 69, '  本周在外地出差 ')
    expect(answer.result).toBe('declined')
    expect(seen[0].body).toEqual({ reason: '本周在外地出差' })
    expect(seen[0].header['Idempotency-Key']).toBeTruthy()
  })

  it('waits without network', async () => {
    serve(() => null)
    const answer = await declineOffer(useOutboxStore(), 69, '太远', 3000)
    expect(answer.result).toBe('queued')
    expect((answer as { item: OutboxItem }).item).toMatchObject({ kind: 'decline', payload: { reason: '太远' } })
    offline().outbox.stop()
  })
})
