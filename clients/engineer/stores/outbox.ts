// What waits on the phone to be sent (the shared outbox) as the pages see
// it: every item, updated at each change; accept, decline, photos and steps
// go in here first, then to the server when the network is there.
import { defineStore } from 'pinia'
import { storage, type Outbox, type OutboxItem, type Schemas, type UploadPayload } from '@instrument/shared'
import { offline } from '@/services/outbox'

type Action = Schemas['Action']
const OWNER_KEY = 'outbox.owner'

/** How an item ended up after a tap, as far as the page waits for it */
export type Settled =
  | { state: 'sent'; item: OutboxItem }
  | { state: 'refused'; item: OutboxItem }
  /** Not sent yet: no network, the server busy, or still on its way */
  | { state: 'waiting'; item: OutboxItem }
  | { state: 'gone' }

const UNSENT = ['pending', 'sending', 'refused']

// The outbox followed, and how to stop following it
let followed: { outbox: Outbox; stop(): void } | null = null

export const useOutboxStore = defineStore('outbox', {
  state: () => ({
    items: [] as OutboxItem[],
    ready: false,
  }),
  getters: {
    unsent: (state) => state.items.filter((item) => UNSENT.includes(item.state)),
    refused: (state) => state.items.filter((item) => item.state === 'refused'),
  },
  actions: {
    /** Follow the outbox and start sending (once, at launch) */
    async init() {
      const { outbox } = offline()
      if (followed?.outbox !== outbox) {
        followed?.stop()
        followed = { outbox, stop: outbox.onChange((items) => { this.items = items }) }
      }
      await outbox.ready()
      this.items = outbox.snapshot()
      this.ready = true
      outbox.start()
    },
    ofTask(taskId: number): OutboxItem[] {
      return this.items.filter((item) => item.taskId === taskId)
    },
    item(id: string): OutboxItem | undefined {
      return this.items.find((item) => item.id === id)
    },
    /** The latest accept or decline of an offer */
    answerOf(offerId: number): OutboxItem | undefined {
      return [...this.items].reverse().find((item) => item.taskId === offerId
        && (item.kind === 'accept' || item.kind === 'decline'))
    },
    /** The items are the engineer's who logged in: another engineer's go
     * (they would be sent in the new engineer's name) */
    async adopt(engineerId: number) {
      const owner = storage.get<number>(OWNER_KEY)
      if (owner !== null && owner !== engineerId) await this.dropAll()
      storage.set(OWNER_KEY, engineerId)
    },
    /** Forget everything not sent (logout) */
    async dropAll() {
      const { outbox } = offline()
      for (const item of await outbox.items()) {
        if (item.state !== 'sending') await outbox.discard(item.id).catch(() => undefined)
      }
      storage.remove(OWNER_KEY)
    },
    accept(offerId: number) {
      return offline().outbox.add({ taskId: offerId, kind: 'accept', payload: {} })
    },
    decline(offerId: number, reason: string) {
      return offline().outbox.add({ taskId: offerId, kind: 'decline', payload: { reason } })
    },
    /** A photo or document of a step, kept with its file until it is sent */
    addFile(taskId: number, file: Pick<UploadPayload, 'localPath' | 'name' | 'kind'>) {
      return offline().outbox.add({ taskId, kind: 'upload', payload: { ...file } })
    },
    submitStep(taskId: number, action: Action, values: Record<string, unknown>) {
      return offline().outbox.add({ taskId, kind: 'step', payload: { action, values } })
    },
    editStep(id: string, values: Record<string, unknown>) {
      return offline().outbox.edit(id, values)
    },
    retry(id: string) {
      return offline().outbox.retry(id)
    },
    discard(id: string) {
      return offline().outbox.discard(id)
    },
    fileUrl(id: string) {
      return offline().outbox.fileUrl(id)
    },
    /** Wait until the item is sent or refused, or waits for the network or
     * a later attempt, or `patience` ms passed */
    settle(id: string, patience = 20000): Promise<Settled> {
      const { outbox } = offline()
      return new Promise((resolve) => {
        let done = false
        let stop: () => void = () => undefined
        const finish = (result: Settled) => {
          if (done) return
          done = true
          clearTimeout(timer)
          stop()
          resolve(result)
        }
        const look = (items: OutboxItem[]) => {
          const item = items.find((candidate) => candidate.id === id)
          if (!item) finish({ state: 'gone' })
          else if (item.state === 'sent') finish({ state: 'sent', item })
          else if (item.state === 'refused') finish({ state: 'refused', item })
          else if (item.state === 'pending' && (item.attempts > 0 || item.nextAttemptAt)) finish({ state: 'waiting', item })
        }
        const timer = setTimeout(() => {
          const item = outbox.snapshot().find((candidate) => candidate.id === id)
          finish(item ? { state: 'waiting', item } : { state: 'gone' })
        }, patience)
        stop = outbox.onChange(look)
        look(outbox.snapshot())
        // Once what is due is done, an item still pending waits for later:
        // no network, a back-off
        void outbox.flush().then(() => {
          look(outbox.snapshot())
          const item = outbox.snapshot().find((candidate) => candidate.id === id)
          if (item?.state === 'pending') finish({ state: 'waiting', item })
        })
      })
    },
  },
})
