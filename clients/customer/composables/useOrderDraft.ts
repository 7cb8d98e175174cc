// The draft of an order form, one per type, kept in storage as it is typed:
// a reload or a closed app loses nothing; it is forgotten once the order is
// made.
import { reactive, watch } from 'vue'
import { storage } from '@instrument/shared'
import { restoreDraft, storableDraft, type OrderDraft, type OrderType } from './orderForm'

export function draftKey(code: string): string {
  return `order.draft.${code}`
}

export function loadDraft(type: OrderType): OrderDraft {
  return restoreDraft(type, storage.get<OrderDraft>(draftKey(type.code)))
}

export function hasDraft(code: string): boolean {
  return storage.get(draftKey(code)) !== null
}

export function useOrderDraft(type: OrderType, delay = 300) {
  const draft = reactive(loadDraft(type)) as OrderDraft
  let timer: ReturnType<typeof setTimeout> | null = null
  let cleared = false

  function save() {
    if (timer) clearTimeout(timer)
    timer = null
    if (!cleared) storage.set(draftKey(type.code), storableDraft(draft))
  }

  function clear() {
    if (timer) clearTimeout(timer)
    timer = null
    cleared = true
    storage.remove(draftKey(type.code))
  }

  // Once cleared (the order is made) nothing is written again
  const stop = watch(draft, () => {
    if (cleared) return
    if (timer) clearTimeout(timer)
    timer = setTimeout(save, delay)
  }, { deep: true })

  function dispose() {
    stop()
    if (timer) save()
  }

  return { draft, save, clear, dispose }
}
