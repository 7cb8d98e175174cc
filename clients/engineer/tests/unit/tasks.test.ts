// The task list and every task opened (or read behind the list) can be read
// offline: the copy kept is shown, said stale, with when it was read; a task
// that is no longer mine leaves the copy.
import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { MemoryStore } from '@instrument/shared'
import { useTasksStore } from '@/stores/tasks'
import { useOfflineStore } from '@/services/outbox'
import { serve } from './setup'

const summary = (id: number, state = 'in_progress') => ({ id, number: 'FW' + id, state, type: 'repair', name: `task ${id}` })
const detail = (id: number) => ({
  id, type: 'repair', state: 'in_progress', visit_mode: null,
  progress: { current_step: 'accepted', actions: [], steps: [] },
})

beforeEach(() => {
  setActivePinia(createPinia())
  useOfflineStore(new MemoryStore())
})

describe('reading offline', () => {
  it('shows the list and the tasks read before, when the network is gone', async () => {
    let online = true
    const seen = serve(({ url }) => {
      if (!online) return null
      if (url.includes('/engineer/tasks?')) return { statusCode: 200, data: { items: [summary(1), summary(2), summary(3, 'done')], page: 1, page_size: 50, total: 3 } }
      const id = Number(/tasks\/(\d+)/.exec(url)![1])
      return { statusCode: 200, data: detail(id) }
    })
    const tasks = useTasksStore()
    await tasks.load('all', true)
    expect(tasks.lists.all.items.map((item) => item.id)).toEqual([1, 2, 3])
    expect(tasks.lists.all.stale).toBe(false)
    // The tasks in progress were read in full behind the list (not the done one)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(seen.filter((request) => /tasks\/\d+$/.test(request.url)).map((request) => request.url.split('/').pop())).toEqual(['1', '2'])

    online = false
    setActivePinia(createPinia())
    const again = useTasksStore()
    await again.load('all', true)
    expect(again.lists.all.items.map((item) => item.id)).toEqual([1, 2, 3])
    expect(again.lists.all.stale).toBe(true)
    expect(again.lists.all.savedAt).toBeGreaterThan(0)
    const opened = await again.open(2)
    expect(opened).toMatchObject({ stale: true, task: { id: 2 } })
    await expect(again.open(3)).rejects.toMatchObject({ status: 0 })
  }, 15000)

  it('forgets the copy of a task that is no longer mine', async () => {
    let mine = true
    serve(() => (mine ? { statusCode: 200, data: detail(7) } : { statusCode: 404, data: { error: { code: 'not_found', message: '订单不存在' } } }))
    const tasks = useTasksStore()
    await tasks.open(7)
    mine = false
    await expect(tasks.open(7)).rejects.toMatchObject({ status: 404 })
    serve(() => null)
    await expect(tasks.open(7)).rejects.toMatchObject({ status: 0 })
  }, 15000)
})
