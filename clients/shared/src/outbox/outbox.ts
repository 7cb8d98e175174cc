// The offline outbox: every write of the engineer app the network may lose
// (steps, their photos and files, accept, decline) is kept on the phone
// first, then sent in the order added, each with its own Idempotency-Key,
// until the server answers. A lost answer is sent again with the same key,
// which the API answers with its first answer: nothing is done twice.
import { ApiError, newIdempotencyKey } from '../api/client'
import type { ActionBody } from '../api/endpoints'
import { outboxText } from './messages'
import { networkOnline, watchNetwork } from './network'
import {
  FileMissingError,
  type NewOutboxItem, type Outbox, type OutboxError, type OutboxItem,
  type OutboxOptions, type StepPayload, type UploadPayload,
} from './types'

/** The first back-off (ms), doubled at each failure up to MAX_BACKOFF */
export const FIRST_BACKOFF = 2000
export const MAX_BACKOFF = 5 * 60 * 1000
/** While the platform says it is offline, look again this often (ms) */
const OFFLINE_POLL = 30 * 1000
const KEEP_SENT = 10 * 60 * 1000

/** The wait before attempt n+1 (n from 1): 2 s, 4 s, 8 s… up to 5 min,
 * ±20 % so that phones back online together do not come back together; a
 * Retry-After of the server when longer */
export function backoff(attempts: number, random: () => number, retryAfter?: number): number {
  const base = Math.min(FIRST_BACKOFF * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF)
  const delay = Math.max(base * (0.8 + 0.4 * random()), (retryAfter ?? 0) * 1000)
  return Math.min(delay, MAX_BACKOFF)
}

/** An answer worth waiting for: no answer, the session to renew, the server
 * busy or failing. Any other refusal will not change by itself. */
export function retryable(status: number): boolean {
  return status === 0 || status === 401 || status === 408 || status === 425
    || status === 429 || status >= 500
}

type Failure = OutboxError & { retryAfter?: number; network: boolean }

function failureOf(error: unknown): Failure {
  if (error instanceof ApiError) {
    return {
      status: error.status, code: error.code, message: error.message,
      fields: { ...error.fields }, retryAfter: error.retryAfter, network: error.status === 0,
    }
  }
  if (error instanceof FileMissingError) {
    return {
      status: 0, code: 'file_missing', message: outboxText('outbox.file_missing'),
      fields: {}, network: false,
    }
  }
  // A fault of the phone (storage busy...): tried again later, never dropped
  const message = error instanceof Error ? error.message : String(error)
  return { status: 500, code: 'client_error', message, fields: {}, network: false }
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

/** The names of a step's values that cite files: its images and files
 * fields (photos, files) */
function fileFields(payload: StepPayload): string[] {
  const names = new Set(['photos', 'files'])
  for (const field of payload.action.fields ?? []) {
    if (field.kind === 'images' || field.kind === 'files') names.add(field.name)
  }
  return [...names]
}

/** The upload item ids a step cites, with where */
function citations(payload: StepPayload): { id: string; field: string; index: number }[] {
  const found: { id: string; field: string; index: number }[] = []
  for (const field of fileFields(payload)) {
    const value = payload.values[field]
    if (!Array.isArray(value)) continue
    value.forEach((entry, index) => {
      if (typeof entry === 'string') found.push({ id: entry, field, index })
    })
  }
  return found
}

const UNSENT = new Set(['pending', 'sending', 'refused'])

export function createOutbox(options: OutboxOptions): Outbox {
  const { api, store } = options
  const now = options.now ?? (() => Date.now())
  const random = options.random ?? Math.random
  const online = options.online ?? networkOnline
  const keepSent = options.keepSent ?? KEEP_SENT
  const listeners = new Set<(items: OutboxItem[]) => void>()
  if (options.onChange) listeners.add(options.onChange)

  // In the order added (createdAt, strictly increasing)
  let list: OutboxItem[] = []
  let started = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let unwatch: (() => void) | undefined
  // After a network failure nothing is tried before this time
  let pausedUntil = 0
  let flushing: Promise<void> | null = null
  let again = false
  const urls = new Map<string, Promise<{ path: string; release(): void }>>()

  const loaded = load()

  async function load(): Promise<void> {
    const kept = await store.loadItems()
    kept.sort((a, b) => a.createdAt - b.createdAt)
    for (const item of kept) {
      // A crash (a dead battery, a reload) while it was on its way: its
      // answer is unknown, so it goes again with the same key
      if (item.state === 'sending') {
        item.state = 'pending'
        await store.putItem(item)
      }
      // A new start is a new chance: the back-offs of the last run are over
      delete item.nextAttemptAt
    }
    list = kept
    await refuseCiting()
    await prune()
    changed()
  }

  function find(id: string): OutboxItem | undefined {
    return list.find((item) => item.id === id)
  }

  function changed(): void {
    if (!listeners.size) return
    const items = clone(list)
    for (const listener of listeners) {
      try {
        listener(items)
      } catch (error) {
        console.error('outbox listener failed', error)
      }
    }
  }

  async function save(...items: OutboxItem[]): Promise<void> {
    for (const item of items) await store.putItem(item)
  }

  async function remove(item: OutboxItem): Promise<void> {
    const stored = item.kind === 'upload' ? item.payload.stored : undefined
    list = list.filter((other) => other !== item)
    await store.deleteItem(item.id)
    const url = urls.get(item.id)
    if (url) {
      urls.delete(item.id)
      url.then((file) => file.release(), () => undefined)
    }
    if (stored) await store.deleteFile(stored)
  }

  function uploadOf(id: string): (OutboxItem & { kind: 'upload' }) | undefined {
    const item = find(id)
    return item && item.kind === 'upload' ? item : undefined
  }

  /** Unsent steps citing the upload */
  function citing(uploadId: string): (OutboxItem & { kind: 'step' })[] {
    return list.filter((item): item is OutboxItem & { kind: 'step' } =>
      item.kind === 'step' && UNSENT.has(item.state)
      && citations(item.payload).some((citation) => citation.id === uploadId))
  }

  /** A refused upload refuses the pending steps citing it, with its reason */
  async function refuseCiting(): Promise<void> {
    const refused: OutboxItem[] = []
    for (const step of list) {
      if (step.kind !== 'step' || step.state !== 'pending') continue
      for (const citation of citations(step.payload)) {
        const upload = uploadOf(citation.id)
        if (upload && upload.state !== 'refused') continue
        const path = `${citation.field}[${citation.index}]`
        step.state = 'refused'
        if (upload) {
          const reason = upload.error!
          step.error = {
            status: reason.status,
            code: reason.code,
            message: outboxText('outbox.upload_refused',
              { name: upload.payload.name, reason: reason.message }),
            fields: { [path]: { code: reason.code, message: reason.message } },
            upload: upload.id,
          }
        } else {
          const message = outboxText('outbox.upload_missing')
          step.error = {
            status: 0, code: 'upload_missing', message,
            fields: { [path]: { code: 'upload_missing', message } },
          }
        }
        refused.push(step)
        break
      }
    }
    await save(...refused)
  }

  /** Whether the item may go now, time aside: an item waits for the
   * earlier steps, accepts and declines of its task (the order of a task's
   * work), a step also for the uploads it cites */
  function mayGo(item: OutboxItem): boolean {
    if (item.state !== 'pending') return false
    for (const other of list) {
      if (other === item) break
      if (other.taskId === item.taskId && other.kind !== 'upload' && other.state !== 'sent') {
        return false
      }
    }
    if (item.kind === 'step') {
      for (const citation of citations(item.payload)) {
        if (uploadOf(citation.id)?.state !== 'sent') return false
      }
    }
    return true
  }

  function due(item: OutboxItem, at: number): boolean {
    return (item.nextAttemptAt ?? 0) <= at
  }

  /** The body of a step: its values with the server's file ids in place of
   * the upload item ids */
  function stepBody(payload: StepPayload): ActionBody {
    const body: Record<string, unknown> = { ...payload.values }
    for (const field of fileFields(payload)) {
      const value = body[field]
      if (!Array.isArray(value)) continue
      body[field] = value.map((entry) =>
        typeof entry === 'string' ? uploadOf(entry)!.payload.fileId : entry)
    }
    return body as ActionBody
  }

  async function request(item: OutboxItem): Promise<void> {
    switch (item.kind) {
      case 'upload': {
        const payload: UploadPayload = item.payload
        const file = await store.openFile(payload.stored ?? payload.localPath)
        try {
          const answer = await api.uploadTaskFile(item.taskId,
            { filePath: file.path, name: payload.name }, { idempotencyKey: item.key })
          payload.fileId = answer.id
        } finally {
          file.release()
        }
        return
      }
      case 'step':
        await api.perform(item.payload.action, stepBody(item.payload), item.key)
        return
      case 'accept':
        await api.accept(item.taskId, item.key)
        return
      case 'decline':
        await api.decline(item.taskId, item.payload.reason, item.key)
        return
    }
  }

  async function send(item: OutboxItem): Promise<void> {
    item.state = 'sending'
    item.attempts += 1
    try {
      // Kept as sending first: after a crash from here on, the answer is
      // unknown and the same key goes again
      await save(item)
    } catch (error) {
      // Not sent: the store failed (full, closed); tried again later
      item.state = 'pending'
      item.nextAttemptAt = now() + backoff(item.attempts, random)
      throw error
    }
    changed()
    try {
      await request(item)
      item.state = 'sent'
      item.sentAt = now()
      delete item.nextAttemptAt
      delete item.error
    } catch (error) {
      const failure = failureOf(error)
      const { retryAfter, network, ...reason } = failure
      if (retryable(failure.status) && failure.code !== 'file_missing') {
        item.state = 'pending'
        item.nextAttemptAt = now() + backoff(item.attempts, random, retryAfter)
        // No network: nothing else goes either until then
        if (network) pausedUntil = item.nextAttemptAt
      } else {
        item.state = 'refused'
        item.error = reason
        delete item.nextAttemptAt
      }
    }
    await save(item)
    if (item.kind === 'upload' && item.state === 'refused') await refuseCiting()
    changed()
  }

  async function round(): Promise<void> {
    await refuseCiting()
    for (;;) {
      const at = now()
      if (!online() || pausedUntil > at) return
      const item = list.find((candidate) => mayGo(candidate) && due(candidate, at))
      if (!item) return
      await send(item)
    }
  }

  /** Sent items no longer needed: after keepSent, unless an unsent step
   * still needs the file id of the upload */
  async function prune(): Promise<void> {
    const at = now()
    const old = list.filter((item) => item.state === 'sent'
      && (item.sentAt ?? 0) + keepSent <= at
      && !(item.kind === 'upload' && citing(item.id).length))
    for (const item of old) await remove(item)
  }

  function schedule(): void {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    if (!started) return
    const waiting = list.filter(mayGo)
    if (!waiting.length) return
    let wake = Math.min(...waiting.map((item) => item.nextAttemptAt ?? 0))
    wake = Math.max(wake, pausedUntil)
    if (!online()) wake = Math.max(wake, now() + OFFLINE_POLL)
    timer = setTimeout(() => {
      timer = undefined
      flush().catch((error) => console.error('outbox flush failed', error))
    }, Math.max(0, wake - now()))
  }

  function flush(): Promise<void> {
    if (flushing) {
      again = true
      return flushing
    }
    flushing = (async () => {
      try {
        await loaded
        do {
          again = false
          await round()
        } while (again)
        await prune()
      } finally {
        flushing = null
        schedule()
      }
    })()
    return flushing
  }

  /** A change of the items that may let one go now */
  function kick(): void {
    if (started) flush().catch((error) => console.error('outbox flush failed', error))
  }

  /** Everything waiting goes now, without its back-off */
  function wake(): void {
    pausedUntil = 0
    for (const item of list) {
      if (item.state === 'pending') delete item.nextAttemptAt
    }
    kick()
  }

  function onNetwork(connected: boolean): void {
    if (connected && started) wake()
  }

  function checkCitations(payload: StepPayload): void {
    for (const citation of citations(payload)) {
      if (!uploadOf(citation.id)) {
        throw new Error(`outbox: ${citation.field} cites ${citation.id}, which is no upload of the outbox`)
      }
    }
  }

  /** An unsent upload no unsent step cites any more goes with it */
  async function dropOrphans(ids: string[]): Promise<void> {
    for (const id of ids) {
      const upload = uploadOf(id)
      if (upload && upload.state !== 'sent' && upload.state !== 'sending' && !citing(id).length) {
        await remove(upload)
      }
    }
  }

  function editable(item: OutboxItem): boolean {
    // A pending item never sent may change too; one sent once may have
    // reached the server, whose answer was lost: only its key may go
    return item.state === 'refused' || (item.state === 'pending' && item.attempts === 0)
  }

  function selected(taskId?: number): OutboxItem[] {
    return clone(taskId === undefined ? list : list.filter((item) => item.taskId === taskId))
  }

  return {
    async add(input: NewOutboxItem) {
      await loaded
      if (!Number.isInteger(input.taskId)) throw new Error('outbox: taskId must be an order id')
      const last = list.length ? list[list.length - 1].createdAt : 0
      const item = {
        ...clone(input),
        id: newIdempotencyKey(),
        key: newIdempotencyKey(),
        state: 'pending',
        createdAt: Math.max(now(), last + 1),
        attempts: 0,
      } as OutboxItem
      if (item.kind === 'step') checkCitations(item.payload)
      if (item.kind === 'upload') {
        const kept = await store.keepFile(item.id, item.payload.localPath, item.payload.name)
        item.payload.stored = kept.stored
        item.payload.localPath = kept.localPath
      }
      await store.putItem(item)
      list.push(item)
      changed()
      kick()
      return clone(item)
    },

    async items(taskId?: number) {
      await loaded
      return selected(taskId)
    },

    async pending(taskId?: number) {
      await loaded
      return selected(taskId).filter((item) => item.state !== 'sent')
    },

    snapshot: selected,

    ready: () => loaded,

    async retry(id: string) {
      await loaded
      const item = find(id)
      if (!item) return
      if (item.state === 'sending' || item.state === 'sent') return
      const retried: OutboxItem[] = [item]
      if (item.kind === 'upload') {
        // The steps refused because of this upload wait for it again
        retried.push(...list.filter((step) => step.state === 'refused' && step.error?.upload === id))
      }
      for (const each of retried) {
        each.state = 'pending'
        delete each.error
        delete each.nextAttemptAt
      }
      pausedUntil = 0
      await save(...retried)
      changed()
      kick()
    },

    async discard(id: string) {
      await loaded
      const item = find(id)
      if (!item) return
      if (item.state === 'sending') throw new Error('outbox: the item is being sent')
      if (item.kind === 'upload') {
        // The engineer took the photo out: it leaves the steps' values,
        // unless a step may have reached the server with it
        const steps = citing(id)
        if (!steps.every(editable)) throw new Error('outbox: a step citing the upload may have been sent')
        for (const step of steps) {
          for (const field of fileFields(step.payload)) {
            const value = step.payload.values[field]
            if (Array.isArray(value)) {
              step.payload.values[field] = value.filter((entry) => entry !== id)
            }
          }
        }
        await save(...steps)
        await remove(item)
      } else {
        await remove(item)
        if (item.kind === 'step') {
          await dropOrphans(citations(item.payload).map((citation) => citation.id))
        }
      }
      changed()
      kick()
    },

    async edit(id: string, values: Record<string, unknown>) {
      await loaded
      const item = find(id)
      if (!item) throw new Error('outbox: no item ' + id)
      if (!editable(item)) throw new Error(`outbox: a ${item.state} item cannot change`)
      let before: string[] = []
      if (item.kind === 'step') {
        const payload = { ...item.payload, values: clone(values) }
        checkCitations(payload)
        before = citations(item.payload).map((citation) => citation.id)
        item.payload = payload
      } else if (item.kind === 'decline') {
        item.payload = { reason: String(values.reason ?? '') }
      } else {
        throw new Error(`outbox: an ${item.kind} has no values`)
      }
      // Another request: another key (the API refuses a key with another body)
      item.key = newIdempotencyKey()
      item.state = 'pending'
      item.attempts = 0
      delete item.error
      delete item.nextAttemptAt
      await save(item)
      await dropOrphans(before)
      changed()
      kick()
      return clone(item)
    },

    flush,

    start() {
      if (!started) unwatch = watchNetwork(onNetwork)
      started = true
      // Also after a new login: what waited for the session goes now
      loaded.then(wake, () => undefined)
    },

    stop() {
      started = false
      unwatch?.()
      unwatch = undefined
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    },

    onChange(listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },

    async fileUrl(id: string) {
      await loaded
      const item = uploadOf(id)
      if (!item) throw new Error('outbox: no upload ' + id)
      let file = urls.get(id)
      if (!file) {
        file = store.openFile(item.payload.stored ?? item.payload.localPath)
        urls.set(id, file)
        file.catch(() => urls.delete(id))
      }
      return (await file).path
    },
  }
}
