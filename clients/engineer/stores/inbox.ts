// 消息: the offers waiting for the engineer (GET /engineer/inbox) and the
// notices (GET /engineer/notifications), kept up to date while the app is
// in front by the long poll (GET /engineer/notifications/wait): each new
// notice reads the offers again, and a new offer rings. The unread count is
// the badge of the 消息 tab.
import { defineStore } from 'pinia'
import { type Schemas } from '@instrument/shared'
import { api } from '@/services/api'
import { offline } from '@/services/outbox'
import { createLongPoll, type LongPoll, type WaitAnswer } from '@/composables/longPoll'
import { alertNewOffer } from '@/composables/alert'
import { noticesReceived } from '@/composables/subscribe'

type Offer = Schemas['InboxItem']
type Notice = Schemas['Notification']

export const INBOX_TAB = 0
const NOTICES_PAGE = 20
const OFFERS_PAGE = 50

let poll: LongPoll | null = null
const noticeListeners = new Set<(notices: Notice[]) => void>()

/** Called with the notices the long poll brings (the task pages read their
 * task again when one is about it) */
export function onNotices(listener: (notices: Notice[]) => void): () => void {
  noticeListeners.add(listener)
  return () => { noticeListeners.delete(listener) }
}

/** The badge of the 消息 tab; the platform may refuse it before a tab page
 * is shown: set again on each change */
export function showBadge(unread: number): void {
  try {
    if (unread > 0) {
      uni.setTabBarBadge({ index: INBOX_TAB, text: unread > 99 ? '99+' : String(unread), fail: () => undefined })
    } else {
      uni.removeTabBarBadge({ index: INBOX_TAB, fail: () => undefined })
    }
  } catch {
    // No tab bar on this page
  }
}

export const useInboxStore = defineStore('inbox', {
  state: () => ({
    offers: [] as Offer[],
    /** Offers read from the offline copy (no network) */
    offersStale: false,
    offersSavedAt: 0,
    offersLoaded: false,
    offersError: '',
    notices: [] as Notice[],
    noticesPage: 1,
    noticesFinished: false,
    noticesLoading: false,
    unread: 0,
    /** The greatest notification id seen: the long poll asks after it */
    lastId: 0,
    /** The ids of the offers seen, to tell a new one */
    seenOffers: [] as number[],
    /** The long poll failed the last time (shown as reconnecting) */
    pollFailing: false,
    live: false,
  }),
  actions: {
    setUnread(unread: number) {
      this.unread = unread
      showBadge(unread)
    },
    /** Read the offers; the new ones (not seen before) */
    async loadOffers(): Promise<Offer[]> {
      try {
        const read = await offline().cache.read('inbox', () => api.inbox({ page_size: OFFERS_PAGE }))
        const known = new Set(this.seenOffers)
        const fresh = this.offersLoaded ? read.value.items.filter((offer) => !known.has(offer.id)) : []
        this.offers = read.value.items
        this.offersStale = read.stale
        this.offersSavedAt = read.savedAt
        this.offersError = ''
        this.seenOffers = [...new Set([...this.seenOffers, ...read.value.items.map((offer) => offer.id)])]
        this.offersLoaded = true
        return fresh
      } catch (error) {
        this.offersError = error instanceof Error ? error.message : String(error)
        return []
      }
    },
    /** The first page of notices again, or the next one */
    async loadNotices(reset = true) {
      if (this.noticesLoading || (!reset && this.noticesFinished)) return
      this.noticesLoading = true
      const page = reset ? 1 : this.noticesPage
      try {
        const read = await offline().cache.read(reset ? 'notices' : `notices:${page}`,
          () => api.notifications({ page, page_size: NOTICES_PAGE }))
        const answer = read.value
        this.notices = reset ? answer.items : [...this.notices, ...answer.items.filter(
          (notice) => !this.notices.some((known) => known.id === notice.id))]
        this.noticesPage = page + 1
        this.noticesFinished = page * NOTICES_PAGE >= answer.total || !answer.items.length
        if (!read.stale) this.setUnread(answer.unread)
        for (const notice of answer.items) this.lastId = Math.max(this.lastId, notice.id)
      } catch {
        // Shown as it was; the long poll tries again
      } finally {
        this.noticesLoading = false
      }
    },
    /** Both lists, as when the page opens */
    async refresh() {
      await Promise.all([this.loadOffers(), this.loadNotices(true)])
    },
    /** What the long poll brought */
    async received(answer: WaitAnswer) {
      this.pollFailing = false
      this.live = true
      if (!answer.items.length) return
      for (const notice of answer.items) this.lastId = Math.max(this.lastId, notice.id)
      const known = new Set(this.notices.map((notice) => notice.id))
      const fresh = answer.items.filter((notice) => !known.has(notice.id))
      this.notices = [...[...fresh].reverse(), ...this.notices]
      this.setUnread(answer.unread)
      noticesReceived(fresh.length)
      const offers = await this.loadOffers()
      if (offers.length) alertNewOffer()
      for (const listener of noticeListeners) listener(fresh)
    },
    async markRead(notice: Notice) {
      if (!notice.unread) return
      notice.unread = false
      try {
        this.setUnread((await api.markRead(notice.id)).unread)
      } catch {
        notice.unread = true
      }
    },
    async markAllRead() {
      for (const notice of this.notices.filter((item) => item.unread)) await this.markRead(notice)
    },
    /** The offer left the list (accepted, declined, taken by another) */
    drop(offerId: number) {
      this.offers = this.offers.filter((offer) => offer.id !== offerId)
    },
    /** Start the long poll (the app is in front, logged in): first what is
     * there, then wait for what comes */
    async start() {
      if (!poll) {
        poll = createLongPoll({
          wait: (after, timeout) => api.waitNotifications(after, timeout),
          after: () => this.lastId,
          onAnswer: (answer) => this.received(answer),
          onError: () => {
            this.pollFailing = true
            this.live = false
          },
          onUnauthorized: () => { this.live = false },
        })
      }
      if (poll.running) return
      if (!this.lastId) await this.loadNotices(true)
      else void this.refresh()
      poll.start()
      // Waiting on the server from now on (not only after its first answer,
      // up to 25 s later); an error says otherwise
      this.live = !this.pollFailing
    },
    stop() {
      poll?.stop()
      this.live = false
    },
    /** Logout: nothing of this engineer stays on screen */
    forget() {
      this.stop()
      this.$reset()
      showBadge(0)
    },
  },
})
