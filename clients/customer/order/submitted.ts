// The order just made, handed from the form to the page that confirms it
// (which reads it again from the API after a reload)
import type { Schemas } from '@instrument/shared'

let last: Schemas['OrderDetail'] | null = null

export function rememberSubmitted(order: Schemas['OrderDetail']): void {
  last = order
}

export function submittedOrder(id: number): Schemas['OrderDetail'] | null {
  return last && last.id === id ? last : null
}
