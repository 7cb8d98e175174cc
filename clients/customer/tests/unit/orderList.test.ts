// The lists of 我的订单: pages of GET /orders, each tab a filter of the
// server
import { describe, expect, it, vi } from 'vitest'
import type { Schemas } from '@instrument/shared'
import { PAGE_SIZE, useOrderList } from '@/composables/useOrderList'

function summary(id: number): Schemas['OrderSummary'] {
  return { id, number: `FW${id}`, type: 'repair', type_name: '仪器维修', state: 'in_progress', state_name: '进行中',
    submitted_at: '2026-12-05T10:00:00+08:00', instruments: [], name: `order ${id}`, step: null,
    appointment: null, engineer: null, company: null }
}

describe('the orders lists', () => {
  it('reads page after page until the last', async () => {
    const total = PAGE_SIZE + 5
    const orders = vi.fn().mockImplementation(({ page }) => Promise.resolve({
      items: Array.from({ length: page === 1 ? PAGE_SIZE : 5 }, (_, i) => summary((page - 1) * PAGE_SIZE + i)),
      page, page_size: PAGE_SIZE, total }))
    const { lists, load } = useOrderList({ orders })
    await load('done', true)
    expect(orders).toHaveBeenLastCalledWith({ page: 1, page_size: PAGE_SIZE, state: 'done' })
    expect(lists.done.finished).toBe(false)
    await load('done')
    expect(lists.done.items).toHaveLength(total)
    expect(lists.done.finished).toBe(true)
    await load('done')
    expect(orders).toHaveBeenCalledTimes(2)
    // A pull reads from the first page again
    await load('done', true)
    expect(orders).toHaveBeenLastCalledWith({ page: 1, page_size: PAGE_SIZE, state: 'done' })
    expect(lists.done.items).toHaveLength(PAGE_SIZE)
  })

  it('asks the server for each tab: open, awaiting me, done, cancelled', async () => {
    const orders = vi.fn().mockResolvedValue({ items: [1, 2].map(summary), page: 1, page_size: PAGE_SIZE, total: 2 })
    const { lists, load } = useOrderList({ orders })
    await load('in_progress', true)
    expect(orders).toHaveBeenLastCalledWith({ page: 1, page_size: PAGE_SIZE, state: 'open' })
    await load('awaiting', true)
    expect(orders).toHaveBeenLastCalledWith({ page: 1, page_size: PAGE_SIZE, awaiting_me: true })
    expect(lists.awaiting.items.map((item) => item.id)).toEqual([1, 2])
    expect(lists.awaiting.finished).toBe(true)
    await load('cancelled', true)
    expect(orders).toHaveBeenLastCalledWith({ page: 1, page_size: PAGE_SIZE, state: 'cancelled' })
    await load('all', true)
    expect(orders).toHaveBeenLastCalledWith({ page: 1, page_size: PAGE_SIZE })
  })

  it('keeps the error of a failed page, to try again', async () => {
    const orders = vi.fn().mockRejectedValue(new Error('网络连接失败'))
    const { lists, load } = useOrderList({ orders })
    await load('all', true)
    expect(lists.all).toMatchObject({ error: '网络连接失败', loading: false, items: [] })
  })
})
