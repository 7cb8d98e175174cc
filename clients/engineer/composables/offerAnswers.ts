// 接单 and 拒绝 through the outbox: the answer is kept on the phone first,
// sent at once when there is a network, later otherwise (with the same
// Idempotency-Key: never twice). What the page then says:
// - accepted: the task is mine (open it);
// - taken: another engineer won it first (409 already_taken): say so
//   kindly, the offer leaves the list;
// - gone: the offer was withdrawn or the order cancelled (the server's
//   reason); the offer leaves the list;
// - queued: no network (or the server busy): sent by itself later.
// A refusal is acknowledged here (the item is discarded): nothing is left
// waiting that can never go.
import type { OutboxItem } from '@instrument/shared'
import type { Settled } from '@/stores/outbox'

export type Answer =
  | { result: 'accepted'; item: OutboxItem }
  | { result: 'declined'; item: OutboxItem }
  | { result: 'taken'; message: string }
  | { result: 'gone'; message: string }
  | { result: 'queued'; item: OutboxItem }

export interface AnswerDeps {
  accept(offerId: number): Promise<OutboxItem>
  decline(offerId: number, reason: string): Promise<OutboxItem>
  settle(id: string, patience?: number): Promise<Settled>
  discard(id: string): Promise<void>
}

async function answered(deps: AnswerDeps, item: OutboxItem, done: 'accepted' | 'declined', patience: number): Promise<Answer> {
  const settled = await deps.settle(item.id, patience)
  switch (settled.state) {
    case 'sent':
      return done === 'accepted' ? { result: 'accepted', item: settled.item } : { result: 'declined', item: settled.item }
    case 'refused': {
      await deps.discard(settled.item.id)
      const error = settled.item.error
      return { result: error?.code === 'already_taken' ? 'taken' : 'gone', message: error?.message ?? '' }
    }
    case 'waiting':
      return { result: 'queued', item: settled.item }
    default:
      return { result: 'gone', message: '' }
  }
}

export async function acceptOffer(deps: AnswerDeps, offerId: number, patience = 15000): Promise<Answer> {
  return answered(deps, await deps.accept(offerId), 'accepted', patience)
}

export async function declineOffer(deps: AnswerDeps, offerId: number, reason: string, patience = 10000): Promise<Answer> {
  return answered(deps, await deps.decline(offerId, reason.trim()), 'declined', patience)
}
