// 主页 and 任务详情: the engineer's tasks (GET /engineer/tasks: in progress
// first by appointment, then the finished), a tab per state, and each task
// in full (GET /engineer/tasks/{id}). Every answer is kept in the offline
// cache and shown from it when the network is not there; the tasks in
// progress are read in full behind the list, so that each can be opened
// offline, and teach the form catalog what follows each step.
import { defineStore } from 'pinia'
import { ApiError, type Schemas, type TaskQuery } from '@instrument/shared'
import { api } from '@/services/api'
import { offline } from '@/services/outbox'
import { learn, loadCatalog, saveCatalog, type FormCatalog } from '@/composables/formCatalog'

type Summary = Schemas['OrderSummary']
type Task = Schemas['OrderDetail']

export type TaskTab = 'all' | 'in_progress' | 'done' | 'cancelled'
export const TASK_TABS: TaskTab[] = ['all', 'in_progress', 'done', 'cancelled']
export const PAGE_SIZE = 50
// A task read in full within this time is not read again behind the list
const FRESH_MS = 5 * 60 * 1000

export interface TaskList {
  items: Summary[]
  page: number
  finished: boolean
  loading: boolean
  loaded: boolean
  error: string
  /** From the offline copy, saved at savedAt */
  stale: boolean
  savedAt: number
}

function emptyList(): TaskList {
  return { items: [], page: 1, finished: false, loading: false, loaded: false, error: '', stale: false, savedAt: 0 }
}

function query(tab: TaskTab, page: number): TaskQuery {
  return { page, page_size: PAGE_SIZE, ...(tab === 'all' ? {} : { state: tab }) }
}

const generations: Partial<Record<TaskTab, number>> = {}
const readAt = new Map<number, number>()
let catalog: FormCatalog | null = null

export function formCatalog(): FormCatalog {
  if (!catalog) catalog = loadCatalog()
  return catalog
}

export const useTasksStore = defineStore('tasks', {
  state: () => ({
    lists: Object.fromEntries(TASK_TABS.map((tab) => [tab, emptyList()])) as Record<TaskTab, TaskList>,
    /** Tasks read in full, by id */
    details: {} as Record<number, Task>,
    detailStale: {} as Record<number, number>,
  }),
  actions: {
    /** Read a page of a tab (the first again with reset); the first page is
     * kept offline */
    async load(tab: TaskTab, reset = false) {
      const list = this.lists[tab]
      if (!reset && (list.loading || list.finished)) return
      const generation = (generations[tab] ?? 0) + (reset ? 1 : 0)
      generations[tab] = generation
      const page = reset ? 1 : list.page
      list.loading = true
      list.error = ''
      try {
        const read = page === 1
          ? await offline().cache.read(`tasks:${tab}`, () => api.tasks(query(tab, 1)))
          : { value: await api.tasks(query(tab, page)), stale: false, savedAt: Date.now() }
        if (generation !== generations[tab]) return
        const answer = read.value
        list.items = page === 1 ? answer.items : [...list.items, ...answer.items]
        list.page = page + 1
        list.finished = page * PAGE_SIZE >= answer.total || !answer.items.length
        list.loaded = true
        list.stale = read.stale
        list.savedAt = read.savedAt
        if (!read.stale) void this.prefetch(answer.items)
      } catch (error) {
        if (generation === generations[tab]) list.error = error instanceof Error ? error.message : String(error)
      } finally {
        if (generation === generations[tab]) list.loading = false
      }
    },
    /** A task in full: the server's, else the offline copy */
    async open(id: number): Promise<{ task: Task; stale: boolean; savedAt: number }> {
      const { cache } = offline()
      let read
      try {
        read = await cache.read(`task:${id}`, () => api.task(id))
      } catch (error) {
        // Not mine any more (reassigned): its copy goes too
        if (error instanceof ApiError && (error.status === 404 || error.status === 403)) {
          await cache.remove(`task:${id}`)
          delete this.details[id]
        }
        throw error
      }
      this.keep(read.value, read.stale ? read.savedAt : 0)
      return { task: read.value, stale: read.stale, savedAt: read.savedAt }
    },
    /** A task as an answer gave it (a step's, an accept's) */
    keep(task: Task, staleSince = 0) {
      this.details[task.id] = task
      if (staleSince) this.detailStale[task.id] = staleSince
      else {
        delete this.detailStale[task.id]
        readAt.set(task.id, Date.now())
        if (learn(formCatalog(), task)) saveCatalog(formCatalog())
        // The summaries of the lists follow
        for (const list of Object.values(this.lists)) {
          const index = list.items.findIndex((item) => item.id === task.id)
          if (index >= 0) list.items[index] = { ...list.items[index], step: task.step, appointment: task.appointment, state: task.state, state_name: task.state_name }
        }
      }
    },
    /** Read in full, behind the list, the tasks in progress not read lately */
    async prefetch(items: Summary[]) {
      const now = Date.now()
      for (const item of items) {
        if (item.state !== 'in_progress' || now - (readAt.get(item.id) ?? 0) < FRESH_MS) continue
        // Taken now: the other list's read behind (both lists show the
        // tasks in progress) does not read it a second time meanwhile
        readAt.set(item.id, now)
        try {
          await this.open(item.id)
        } catch {
          readAt.delete(item.id)
          return
        }
      }
    },
    /** Read the lists again when next shown */
    invalidate() {
      for (const list of Object.values(this.lists)) list.loaded = false
    },
    forget() {
      this.$reset()
      readAt.clear()
    },
  },
})
