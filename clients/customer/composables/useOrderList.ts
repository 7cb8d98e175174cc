// The lists of the orders page: a page of GET /orders at a time (endless
// scroll), read again from the first on a pull. Each tab is a filter of the
// server: 进行中 the open orders (waiting for an engineer or in progress),
// 待我确认 those waiting for the customer's answer.
import { reactive } from 'vue'
import type { Api, OrderQuery, Schemas } from '@instrument/shared'

export type ListName = 'all' | 'in_progress' | 'awaiting' | 'done' | 'cancelled'
export const LIST_NAMES: ListName[] = ['all', 'in_progress', 'awaiting', 'done', 'cancelled']
export const PAGE_SIZE = 20

export interface OrderList {
  items: Schemas['OrderSummary'][]
  /** The next page of GET /orders to read */
  page: number
  finished: boolean
  loading: boolean
  loaded: boolean
  error: string
}

function emptyList(): OrderList {
  return { items: [], page: 1, finished: false, loading: false, loaded: false, error: '' }
}

const FILTERS: Record<ListName, Partial<OrderQuery>> = {
  all: {},
  in_progress: { state: 'open' },
  awaiting: { awaiting_me: true },
  done: { state: 'done' },
  cancelled: { state: 'cancelled' },
}

export function useOrderList(api: Pick<Api, 'orders'>) {
  const lists = reactive(Object.fromEntries(LIST_NAMES.map((name) => [name, emptyList()]))) as Record<ListName, OrderList>
  const generation: Record<string, number> = {}

  function query(name: ListName, page: number): OrderQuery {
    return { page, page_size: PAGE_SIZE, ...FILTERS[name] }
  }

  /** Read the next page (the first again with reset) */
  async function load(name: ListName, reset = false): Promise<void> {
    const list = lists[name]
    if (reset) {
      generation[name] = (generation[name] ?? 0) + 1
    } else if (list.loading || list.finished) {
      return
    }
    const current = generation[name] ?? 0
    const page = reset ? 1 : list.page
    list.loading = true
    list.error = ''
    try {
      const answer = await api.orders(query(name, page))
      if (current !== (generation[name] ?? 0)) return
      list.items = reset ? answer.items : [...list.items, ...answer.items]
      list.page = page + 1
      list.finished = page * PAGE_SIZE >= answer.total || !answer.items.length
      list.loaded = true
    } catch (error) {
      if (current === (generation[name] ?? 0)) {
        list.error = error instanceof Error ? error.message : String(error)
      }
    } finally {
      if (current === (generation[name] ?? 0)) list.loading = false
    }
  }

  /** Read each list again when it is next shown (the orders moved on) */
  function invalidate() {
    for (const name of LIST_NAMES) lists[name].loaded = false
  }

  return { lists, load, invalidate }
}
