// The outbox against a stand-in server behind the real client: order,
// back-off, exactly once, restarts, refusals, edits and discards.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  backoff, createOutbox, MAX_BACKOFF, MemoryStore,
  type OutboxItem, type OutboxOptions,
} from '../src/outbox'
import { action, fakeServer, PHOTOS } from './outbox-fake'

type Server = ReturnType<typeof fakeServer>

function outboxOf(server: Server, store: MemoryStore, options: Partial<OutboxOptions> = {}) {
  return createOutbox({ api: server.api, store, random: () => 0.5, online: () => true, ...options })
}

async function photo(outbox: ReturnType<typeof createOutbox>, server: Server, taskId: number, content: string) {
  const path = `wxfile://tmp/${content}.jpg`
  server.disk.set(path, content)
  return outbox.add({ taskId, kind: 'upload', payload: { localPath: path, name: `${content}.jpg`, kind: 'photo' } })
}

/** How many requests the server got after each wait (fake timers) */
async function requestsAfter(waits: number[]): Promise<number[]> {
  const counts: number[] = []
  for (const wait of waits) {
    await vi.advanceTimersByTimeAsync(wait)
    counts.push(server.requests.length)
  }
  return counts
}

function byId(items: OutboxItem[], id: string): OutboxItem {
  const item = items.find((each) => each.id === id)
  if (!item) throw new Error('no item ' + id)
  return item
}

let server: Server
let store: MemoryStore

beforeEach(() => {
  server = fakeServer()
  store = new MemoryStore()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('order', () => {
  it('sends in the order added, a step after its uploads with their file ids in the order chosen', async () => {
    const outbox = outboxOf(server, store)
    const accept = await outbox.add({ taskId: 7, kind: 'accept', payload: {} })
    const first = await photo(outbox, server, 7, 'pump')
    const second = await photo(outbox, server, 7, 'seal')
    // The engineer put the second photo first
    const assessment = await outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { description: '泵密封圈老化', photos: [second.id, first.id] } },
    })
    const report = await outbox.add({
      taskId: 7, kind: 'step',
      // The same photos the other way round: each field keeps its order
      payload: { action: action('submit_report', 7), values: { report: '已更换密封圈', files: [first.id, second.id] } },
    })
    await outbox.flush()

    expect(server.requests.map((request) => request.path)).toEqual([
      '/api/v1/engineer/inbox/7/accept',
      '/api/v1/engineer/tasks/7/files',
      '/api/v1/engineer/tasks/7/files',
      '/api/v1/engineer/tasks/7/steps',
      '/api/v1/engineer/tasks/7/steps',
    ])
    expect(server.accepted).toEqual([7])
    expect(server.steps).toEqual([
      { taskId: 7, body: { action: 'submit_assessment', description: '泵密封圈老化', photos: [server.fileId('seal'), server.fileId('pump')] } },
      { taskId: 7, body: { action: 'submit_report', report: '已更换密封圈', files: [server.fileId('pump'), server.fileId('seal')] } },
    ])
    const items = await outbox.items(7)
    expect(items.map((item) => item.state)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent'])
    expect((byId(items, first.id) as OutboxItem & { kind: 'upload' }).payload.fileId).toBe(server.fileId('pump'))
    // Each with its own key, sent as made
    expect(server.requests.map((request) => request.key)).toEqual(
      [accept.key, first.key, second.key, assessment.key, report.key])
    expect(new Set([accept, first, second, assessment, report].map((item) => item.key)).size).toBe(5)
  })

  it('holds a step until its uploads are sent, and the next steps of the task behind it', async () => {
    const outbox = outboxOf(server, store)
    const picture = await photo(outbox, server, 7, 'pump')
    const step = await outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { photos: [picture.id] } },
    })
    const next = await outbox.add({
      taskId: 7, kind: 'step', payload: { action: action('submit_quote', 7), values: { amount: '100.00' } },
    })
    const other = await outbox.add({ taskId: 8, kind: 'accept', payload: {} })
    server.fail('network')
    await outbox.flush()

    // The upload had no answer: the steps of task 7 wait; the network is
    // down, so task 8 waits too
    expect(server.requests.map((request) => request.path)).toEqual(['/api/v1/engineer/tasks/7/files'])
    expect((await outbox.pending()).map((item) => item.id)).toEqual([picture.id, step.id, next.id, other.id])
  })

  it('holds a step while its upload backs off after a server error', async () => {
    let clock = 1000
    const outbox = outboxOf(server, store, { now: () => clock })
    server.fail({ status: 500, code: 'http_500' })
    const picture = await photo(outbox, server, 7, 'pump')
    await outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { photos: [picture.id] } },
    })
    await outbox.flush()
    expect(server.requests.map((request) => request.path)).toEqual(['/api/v1/engineer/tasks/7/files'])
    clock += 2000
    await outbox.flush()
    expect(server.steps).toEqual([{ taskId: 7, body: { action: 'submit_assessment', photos: [server.fileId('pump')] } }])
  })

  it('lets other tasks go on while one task waits for a refused step', async () => {
    const outbox = outboxOf(server, store)
    server.fail({ status: 409, code: 'step_not_allowed' })
    const refused = await outbox.add({
      taskId: 7, kind: 'step', payload: { action: action('visit_remote', 7), values: {} },
    })
    const behind = await outbox.add({
      taskId: 7, kind: 'step', payload: { action: action('submit_assessment', 7), values: { description: 'x' } },
    })
    await outbox.add({ taskId: 8, kind: 'accept', payload: {} })
    await outbox.flush()

    const items = await outbox.items()
    expect(byId(items, refused.id).state).toBe('refused')
    expect(byId(items, behind.id).state).toBe('pending')
    expect(server.accepted).toEqual([8])
    expect(server.steps).toEqual([])
  })
})

describe('retries', () => {
  it('back off 2 s, 4 s, 8 s with the same key, then send', async () => {
    vi.useFakeTimers()
    const outbox = outboxOf(server, store)
    server.fail('network', 'network', 'network')
    const item = await outbox.add({ taskId: 7, kind: 'accept', payload: {} })
    outbox.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(server.requests).toHaveLength(1)
    expect((await outbox.items())[0].nextAttemptAt).toBe(Date.now() + 2000)
    expect(await requestsAfter([1999, 1, 3999, 1, 7999, 1])).toEqual([1, 2, 2, 3, 3, 4])

    expect(server.accepted).toEqual([7])
    expect(new Set(server.requests.map((request) => request.key))).toEqual(new Set([item.key]))
    const [sent] = await outbox.items()
    expect(sent).toMatchObject({ state: 'sent', attempts: 4, key: item.key })
    outbox.stop()
  })

  it('wait up to 5 minutes, with jitter, and as long as Retry-After says', () => {
    const middle = () => 0.5
    expect([1, 2, 3, 4, 5].map((n) => backoff(n, middle))).toEqual([2000, 4000, 8000, 16000, 32000])
    expect(backoff(9, middle)).toBe(MAX_BACKOFF)
    expect(backoff(40, middle)).toBe(MAX_BACKOFF)
    expect(MAX_BACKOFF).toBe(300000)
    // ±20 %, never over the cap
    expect(backoff(1, () => 0)).toBe(1600)
    expect(backoff(1, () => 0.999999)).toBeCloseTo(2400, 0)
    expect(backoff(20, () => 0)).toBe(240000)
    expect(backoff(20, () => 0.999999)).toBe(MAX_BACKOFF)
    expect(backoff(1, middle, 30)).toBe(30000)
    expect(backoff(1, middle, 3600)).toBe(MAX_BACKOFF)
  })

  it('retry 5xx, 429 and 503 with Retry-After, and a 401 once logged in again', async () => {
    vi.useFakeTimers()
    const outbox = outboxOf(server, store)
    server.fail(
      { status: 500, code: 'http_500' },
      { status: 429, code: 'too_many_requests' },
      { status: 503, code: 'busy', retryAfter: 30 },
      { status: 401, code: 'unauthorized' },
    )
    await outbox.add({ taskId: 7, kind: 'decline', payload: { reason: '太远' } })
    outbox.start()
    // 2 s, 4 s, then Retry-After 30 s rather than 8 s
    expect(await requestsAfter([0, 2000, 4000, 29999, 1])).toEqual([1, 2, 3, 3, 4])
    // The 401 waits 16 s, unless the app starts the outbox again after a
    // new login
    expect(await requestsAfter([1000])).toEqual([4])
    outbox.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(server.requests).toHaveLength(5)
    expect(server.declined).toEqual([{ taskId: 7, reason: '太远' }])
    outbox.stop()
  })

  it('go again at once when the network comes back', async () => {
    vi.useFakeTimers()
    let connected = true
    const outbox = outboxOf(server, store, { online: () => connected })
    server.fail('network', 'network', 'network', 'network')
    await outbox.add({ taskId: 7, kind: 'accept', payload: {} })
    outbox.start()
    for (const wait of [0, 2000, 4000, 8000]) await vi.advanceTimersByTimeAsync(wait)
    expect(server.requests).toHaveLength(4)
    // Offline now: nothing is tried, whatever the time
    connected = false
    window.dispatchEvent(new Event('offline'))
    await vi.advanceTimersByTimeAsync(60000)
    expect(server.requests).toHaveLength(4)
    connected = true
    window.dispatchEvent(new Event('online'))
    await vi.advanceTimersByTimeAsync(0)
    expect(server.requests).toHaveLength(5)
    expect(server.accepted).toEqual([7])
    outbox.stop()
  })

  it('go again when uni says the network is back', async () => {
    vi.useFakeTimers()
    let notify: ((status: { isConnected: boolean }) => void) | undefined
    const onNetworkStatusChange = vi.fn((callback: typeof notify) => { notify = callback })
    vi.stubGlobal('uni', { ...uni, onNetworkStatusChange, offNetworkStatusChange: vi.fn() })
    try {
      const outbox = outboxOf(server, store)
      server.fail('network')
      await outbox.add({ taskId: 7, kind: 'accept', payload: {} })
      outbox.start()
      await vi.advanceTimersByTimeAsync(0)
      expect(server.requests).toHaveLength(1)
      notify!({ isConnected: true })
      await vi.advanceTimersByTimeAsync(0)
      expect(server.requests).toHaveLength(2)
      expect(server.accepted).toEqual([7])
      outbox.stop()
    } finally {
      vi.unstubAllGlobals()
      const { uniMock } = await import('./setup')
      vi.stubGlobal('uni', uniMock)
    }
  })
})

describe('exactly once', () => {
  it('sends a step whose answer was lost again with its key: one record', async () => {
    const outbox = outboxOf(server, store)
    server.fail('lost')
    const step = await outbox.add({
      taskId: 7, kind: 'step', payload: { action: action('submit_quote', 7), values: { amount: '880.00', description: '更换泵' } },
    })
    await outbox.flush()
    expect(server.steps).toHaveLength(1)
    expect((await outbox.items())[0]).toMatchObject({ state: 'pending', attempts: 1 })

    await outbox.retry(step.id)
    await outbox.flush()
    expect(server.steps).toHaveLength(1)
    expect(server.requests.map((request) => [request.key, request.outcome])).toEqual([
      [step.key, 'done'], [step.key, 'replayed'],
    ])
    expect((await outbox.items())[0].state).toBe('sent')
  })

  it('sends an upload whose answer was lost again with its key and name: one file, cited once', async () => {
    const outbox = outboxOf(server, store)
    server.fail('lost')
    const picture = await photo(outbox, server, 7, 'pump')
    await outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { photos: [picture.id] } },
    })
    await outbox.flush()
    await outbox.retry(picture.id)
    await outbox.flush()
    expect(server.files).toHaveLength(1)
    expect(server.requests.filter((request) => request.path.endsWith('/files'))
      .map((request) => [request.key, request.file?.name, request.outcome]))
      .toEqual([[picture.key, 'pump.jpg', 'done'], [picture.key, 'pump.jpg', 'replayed']])
    expect(server.steps).toEqual([{ taskId: 7, body: { action: 'submit_assessment', photos: [server.files[0].id] } }])
  })

  it('sends again, after a crash while sending, what the server had committed: one record', async () => {
    const first = outboxOf(server, store)
    server.fail('hang')
    const step = await first.add({
      taskId: 7, kind: 'step', payload: { action: action('visit_remote', 7), values: {} },
    })
    void first.flush()
    await vi.waitFor(() => expect(server.requests).toHaveLength(1))
    // The page dies while the request hangs: the store says sending
    expect([...store.items.values()][0].state).toBe('sending')

    const second = outboxOf(server, store)
    const [loaded] = await second.items()
    expect(loaded).toMatchObject({ id: step.id, key: step.key, state: 'pending' })
    await second.flush()
    expect(server.steps).toHaveLength(1)
    expect(server.requests.map((request) => request.key)).toEqual([step.key, step.key])
  })

  it('sends again after a crash what was committed before the answer: replayed', async () => {
    server.fail('lost')
    const first = outboxOf(server, store)
    await first.add({ taskId: 7, kind: 'accept', payload: {} })
    await first.flush()
    // The answer is lost and the app closed before the retry
    const second = outboxOf(server, store)
    await second.flush()
    expect(server.accepted).toEqual([7])
    expect(server.requests.map((request) => request.outcome)).toEqual(['done', 'replayed'])
    expect((await second.items())[0].state).toBe('sent')
  })
})

describe('restart', () => {
  it('gives back every item after a new start and sends them', async () => {
    const offline = outboxOf(server, store, { online: () => false })
    const picture = await photo(offline, server, 7, 'pump')
    const step = await offline.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { description: '泵', photos: [picture.id] } },
    })
    await offline.flush()
    expect(server.requests).toHaveLength(0)
    const before = await offline.items()

    const restarted = outboxOf(server, store)
    expect(await restarted.items()).toEqual(before)
    expect((await restarted.items(7)).map((item) => [item.id, item.key, item.state]))
      .toEqual([[picture.id, picture.key, 'pending'], [step.id, step.key, 'pending']])
    await restarted.flush()
    expect(server.steps).toEqual([{ taskId: 7, body: { action: 'submit_assessment', description: '泵', photos: [server.fileId('pump')] } }])
  })

  it('keeps an item before add resolves', async () => {
    // A store that takes its time to write
    let open: () => void = () => undefined
    const gate = new Promise<void>((resolve) => { open = resolve })
    const slow = new MemoryStore()
    const put = slow.putItem.bind(slow)
    slow.putItem = async (item) => { await gate; await put(item) }
    const outbox = outboxOf(server, slow, { online: () => false })
    let added: OutboxItem | undefined
    const adding = outbox.add({ taskId: 7, kind: 'decline', payload: { reason: '不在服务范围' } })
      .then((item) => { added = item })
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(added).toBeUndefined()
    open()
    await adding
    expect(slow.items.get(added!.id)).toEqual(added)
  })
})

describe('refused', () => {
  it('keeps a refused step with the reason, also after a restart', async () => {
    const outbox = outboxOf(server, store)
    server.fail({
      status: 422, code: 'invalid_evidence', message: 'Missing evidence: amount.',
      fields: { amount: { code: 'required', message: 'Required.' } },
    })
    const step = await outbox.add({
      taskId: 7, kind: 'step', payload: { action: action('submit_quote', 7), values: { description: '更换泵' } },
    })
    await outbox.flush()
    await outbox.flush()
    const expected = {
      state: 'refused', key: step.key,
      error: {
        status: 422, code: 'invalid_evidence', message: 'Missing evidence: amount.',
        fields: { amount: { code: 'required', message: 'Required.' } },
      },
    }
    expect((await outbox.items())[0]).toMatchObject(expected)
    expect((await outbox.pending())).toHaveLength(1)
    expect(server.requests).toHaveLength(1)
    expect((await outboxOf(server, store).items())[0]).toMatchObject(expected)
  })

  it.each([
    [403, 'forbidden'], [404, 'not_found'], [409, 'step_not_allowed'], [422, 'idempotency_key_reused'],
  ])('refuses on %i %s, never sent again by itself', async (status, code) => {
    vi.useFakeTimers()
    const outbox = outboxOf(server, store)
    server.fail({ status, code })
    await outbox.add({ taskId: 7, kind: 'accept', payload: {} })
    outbox.start()
    await vi.advanceTimersByTimeAsync(MAX_BACKOFF * 3)
    expect(server.requests).toHaveLength(1)
    expect((await outbox.items())[0]).toMatchObject({ state: 'refused', error: { status, code } })
    outbox.stop()
  })

  it('edits a refused step: new values, a new key, sent once', async () => {
    const outbox = outboxOf(server, store)
    server.fail({ status: 422, code: 'invalid_evidence' })
    const step = await outbox.add({
      taskId: 7, kind: 'step', payload: { action: action('submit_quote', 7), values: { description: '更换泵' } },
    })
    await outbox.flush()
    const edited = await outbox.edit(step.id, { description: '更换泵', amount: '880.00' })
    expect(edited).toMatchObject({ id: step.id, state: 'pending', attempts: 0 })
    expect(edited.key).not.toBe(step.key)
    expect(edited.error).toBeUndefined()
    await outbox.flush()
    expect(server.steps).toEqual([{ taskId: 7, body: { action: 'submit_quote', description: '更换泵', amount: '880.00' } }])
    expect(server.requests.map((request) => request.key)).toEqual([step.key, edited.key])
    expect(store.items.get(step.id)).toMatchObject({ key: edited.key, state: 'sent' })
  })

  it('edits a refused decline, and no item that may have reached the server', async () => {
    let clock = 1000
    const outbox = outboxOf(server, store, { now: () => clock })
    server.fail({ status: 422, code: 'invalid_field' }, 'lost')
    const decline = await outbox.add({ taskId: 7, kind: 'decline', payload: { reason: '' } })
    const accept = await outbox.add({ taskId: 8, kind: 'accept', payload: {} })
    await outbox.flush()
    const edited = await outbox.edit(decline.id, { reason: '太远' })
    expect(edited.key).not.toBe(decline.key)
    // The accept went once, its answer lost: it keeps its key
    await expect(outbox.edit(accept.id, {})).rejects.toThrow(/pending/)
    clock += 2000
    await outbox.flush()
    expect(server.declined).toEqual([{ taskId: 7, reason: '太远' }])
    expect(server.accepted).toEqual([8])
    expect(server.requests.map((request) => request.key)).toEqual([decline.key, accept.key, edited.key, accept.key])
  })

  it('retries a refused item with its key when asked', async () => {
    const outbox = outboxOf(server, store)
    server.fail({ status: 403, code: 'forbidden' })
    const accept = await outbox.add({ taskId: 7, kind: 'accept', payload: {} })
    await outbox.flush()
    await outbox.retry(accept.id)
    await outbox.flush()
    expect(server.accepted).toEqual([7])
    expect(server.requests.map((request) => request.key)).toEqual([accept.key, accept.key])
  })

  it('discards a refused step, and the next one of the task goes', async () => {
    const outbox = outboxOf(server, store)
    server.fail({ status: 409, code: 'step_not_allowed' })
    const refused = await outbox.add({
      taskId: 7, kind: 'step', payload: { action: action('visit_remote', 7), values: {} },
    })
    // Taken after: it waits behind the refused step of its task
    const picture = await photo(outbox, server, 7, 'pump')
    const next = await outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { photos: [picture.id] } },
    })
    await outbox.flush()
    expect(server.requests).toHaveLength(1)
    await outbox.discard(refused.id)
    await outbox.flush()
    expect(store.items.has(refused.id)).toBe(false)
    expect(server.steps).toEqual([{ taskId: 7, body: { action: 'submit_assessment', photos: [server.fileId('pump')] } }])
    expect((await outbox.items()).map((item) => item.id)).toEqual([picture.id, next.id])
  })

  it('discards a step with the photos only it cites, and a photo out of its step', async () => {
    const outbox = outboxOf(server, store, { online: () => false })
    const a = await photo(outbox, server, 7, 'a')
    const b = await photo(outbox, server, 7, 'b')
    const c = await photo(outbox, server, 7, 'c')
    const step = await outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { photos: [a.id, b.id] } },
    })
    const report = await outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_report', 7), values: { files: [b.id, c.id, 55] } },
    })
    await outbox.discard(c.id)
    expect((await outbox.items()).find((item) => item.id === report.id)?.payload)
      .toMatchObject({ values: { files: [b.id, 55] } })
    expect([...store.files.keys()]).toEqual([`memory:${a.id}`, `memory:${b.id}`])
    await outbox.discard(step.id)
    // b is still cited by the report
    expect((await outbox.items()).map((item) => item.id)).toEqual([b.id, report.id])
    expect(store.items.size).toBe(2)
    expect([...store.files.keys()]).toEqual([`memory:${b.id}`])
  })

  it('keeps a photo whose step may have reached the server', async () => {
    const outbox = outboxOf(server, store)
    const picture = await photo(outbox, server, 7, 'pump')
    await outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { photos: [picture.id] } },
    })
    server.fail('ok', 'lost')
    await outbox.flush()
    await expect(outbox.discard(picture.id)).rejects.toThrow(/may have been sent/)
    expect((await outbox.items()).map((item) => item.state)).toEqual(['sent', 'pending'])
  })

  it('refuses the steps citing a refused upload, with its reason, and never sends them', async () => {
    const outbox = outboxOf(server, store)
    server.failAlways((request) => request.file?.content === 'bad'
      ? { status: 415, code: 'unsupported_file_type', message: 'Photos and documents only.' }
      : undefined)
    const good = await photo(outbox, server, 7, 'good')
    const bad = await photo(outbox, server, 7, 'bad')
    const step = await outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { photos: [good.id, bad.id] } },
    })
    await outbox.flush()
    await outbox.flush()
    const items = await outbox.items()
    expect(byId(items, bad.id)).toMatchObject({ state: 'refused', error: { status: 415, code: 'unsupported_file_type' } })
    expect(byId(items, step.id)).toMatchObject({
      state: 'refused',
      error: {
        status: 415, code: 'unsupported_file_type', upload: bad.id,
        message: '照片或文件“bad.jpg”未被接受：Photos and documents only.',
        fields: { 'photos[1]': { code: 'unsupported_file_type', message: 'Photos and documents only.' } },
      },
    })
    expect(server.steps).toEqual([])

    // The engineer takes the bad photo out: the step goes, the photo with it
    await outbox.edit(step.id, { photos: [good.id] })
    await outbox.flush()
    expect(server.steps).toEqual([{ taskId: 7, body: { action: 'submit_assessment', photos: [server.fileId('good')] } }])
    expect((await outbox.items()).map((item) => item.id)).toEqual([good.id, step.id])
  })

  it('refuses an upload whose file is gone from the phone, and its step', async () => {
    const outbox = outboxOf(server, store, { online: () => false })
    const picture = await photo(outbox, server, 7, 'pump')
    const step = await outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { photos: [picture.id] } },
    })
    store.files.clear()
    const restarted = outboxOf(server, store)
    await restarted.flush()
    const items = await restarted.items()
    expect(byId(items, picture.id)).toMatchObject({ state: 'refused', error: { code: 'file_missing' } })
    expect(byId(items, step.id)).toMatchObject({ state: 'refused', error: { upload: picture.id } })
    expect(server.requests).toHaveLength(0)
  })
})

describe('the app side', () => {
  it('sends what is added at once when started, one request at a time', async () => {
    vi.useFakeTimers()
    const outbox = outboxOf(server, store)
    outbox.start()
    const first = await outbox.add({ taskId: 7, kind: 'accept', payload: {} })
    const second = await outbox.add({ taskId: 8, kind: 'accept', payload: {} })
    // Flushes asked for while one runs join it
    await Promise.all([outbox.flush(), outbox.flush(), vi.advanceTimersByTimeAsync(0)])
    expect(server.requests.map((request) => request.key)).toEqual([first.key, second.key])
    outbox.stop()
    await outbox.add({ taskId: 9, kind: 'accept', payload: {} })
    await vi.advanceTimersByTimeAsync(60000)
    expect(server.accepted).toEqual([7, 8])
  })

  it('tells every change, and shows a pending photo', async () => {
    const seen: string[][] = []
    const outbox = outboxOf(server, store, { onChange: (items) => seen.push(items.map((item) => item.state)) })
    const picture = await photo(outbox, server, 7, 'pump')
    expect(await outbox.fileUrl(picture.id)).toBe('wxfile://tmp/pump.jpg')
    await outbox.flush()
    expect(seen).toEqual([[], ['pending'], ['sending'], ['sent']])
  })

  it('prunes sent items after a while, not an upload an unsent step needs', async () => {
    let clock = 1000
    const outbox = outboxOf(server, store, { now: () => clock, keepSent: 60000 })
    const picture = await photo(outbox, server, 7, 'pump')
    const blocker = await outbox.add({ taskId: 7, kind: 'step', payload: { action: action('visit_remote', 7), values: {} } })
    await outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { photos: [picture.id] } },
    })
    server.failAlways((request) => request.body?.action === 'visit_remote'
      ? { status: 409, code: 'step_not_allowed' } : undefined)
    await outbox.flush()
    clock += 60000
    await outbox.flush()
    expect((await outbox.items()).map((item) => item.state)).toEqual(['sent', 'refused', 'pending'])
    await outbox.discard(blocker.id)
    await outbox.flush()
    clock += 60000
    await outbox.flush()
    expect(await outbox.items()).toEqual([])
    expect(store.items.size).toBe(0)
    expect(store.files.size).toBe(0)
  })

  it('refuses a step citing an upload it does not have', async () => {
    const outbox = outboxOf(server, store)
    await expect(outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { photos: ['nope'] } },
    })).rejects.toThrow(/nope/)
    expect(store.items.size).toBe(0)
  })
})
