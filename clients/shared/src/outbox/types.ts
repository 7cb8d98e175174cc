// The shapes of the offline outbox: what waits on the phone to be sent,
// where it is kept (OutboxStore), and what the app calls (Outbox).
import type { Api } from '../api/endpoints'
import type { FieldError, Schemas } from '../api/client'

export type OutboxKind = 'upload' | 'step' | 'accept' | 'decline'

/** pending: waits to be sent (now, or at nextAttemptAt); sending: on its
 * way; refused: the server said no (see error), kept until the engineer
 * edits or discards it; sent: done, kept a while for the task's view */
export type OutboxState = 'pending' | 'sending' | 'refused' | 'sent'

/** Why the server (or the phone) refused an item, as the API said it */
export interface OutboxError {
  /** The HTTP status; 0 for a refusal of the phone itself (a file gone) */
  status: number
  code: string
  /** To show to the engineer, in the language of the request */
  message: string
  /** Field path → error (`photos[1]`, `amount`), as the API gives them */
  fields: Record<string, FieldError>
  /** A step refused because of a refused upload: that upload's item id */
  upload?: string
}

/** A photo or document to upload to the task (POST /engineer/tasks/{id}/files) */
export interface UploadPayload {
  /** A path the app can show now: what the app gave (a blob: URL on H5, a
   * temp path), replaced by the saved file's path where the store saves
   * files (WeChat, app). After a reload use `outbox.fileUrl(id)`. */
  localPath: string
  /** The file's name, sent with it (the server keeps documents by name) */
  name: string
  kind: 'photo' | 'file'
  /** The store's reference to the bytes it keeps (set by add) */
  stored?: string
  /** The server's file id, once sent */
  fileId?: number
}

/** A step of progress.actions, with the values of its form. The values of
 * its images/files fields (`photos`, `files`) list upload item ids of this
 * outbox (strings), or ids of files already on the server (numbers), in
 * the order the engineer chose. */
export interface StepPayload {
  /** The action as the task detail gave it (its request.path is used) */
  action: Schemas['Action']
  values: Record<string, unknown>
}

export type AcceptPayload = Record<string, never>

export interface DeclinePayload {
  reason: string
}

/** What an item is: its kind and the payload of that kind */
export type OutboxEntry =
  | { kind: 'upload'; payload: UploadPayload }
  | { kind: 'step'; payload: StepPayload }
  | { kind: 'accept'; payload: AcceptPayload }
  | { kind: 'decline'; payload: DeclinePayload }

export interface OutboxItemBase {
  /** Made by add (a UUID); steps cite uploads by it */
  id: string
  /** The order (task) it belongs to; an offer's id for accept/decline */
  taskId: number
  /** The Idempotency-Key, made once when added (and again by edit), sent
   * on every attempt */
  key: string
  state: OutboxState
  /** When it was added (ms); items are sent in this order */
  createdAt: number
  /** Attempts made (each one a request) */
  attempts: number
  /** A pending item that failed: not sent again before this time (ms) */
  nextAttemptAt?: number
  /** When it was sent (ms) */
  sentAt?: number
  /** Why it was refused (state 'refused') */
  error?: OutboxError
}

export type OutboxItem = OutboxItemBase & OutboxEntry

/** What the app gives to add: the outbox makes the rest */
export type NewOutboxItem = { taskId: number } & OutboxEntry

/** The API calls the outbox makes (a createApi(client)) */
export type OutboxApi = Pick<Api, 'uploadTaskFile' | 'perform' | 'accept' | 'decline'>

/** What the offline cache keeps of one key */
export interface CacheEntry<T = unknown> {
  value: T
  /** When it was read from the server (ms) */
  savedAt: number
}

/** Where the outbox and the offline cache are kept. Every write is done
 * (durable) when its promise resolves. */
export interface OutboxStore {
  /** Every item kept, in any order */
  loadItems(): Promise<OutboxItem[]>
  /** Adds or replaces the item of that id */
  putItem(item: OutboxItem): Promise<void>
  deleteItem(id: string): Promise<void>
  /** Keeps the bytes at `localPath` (a blob: URL, a temp file) for item
   * `id` so that they outlive the page or the app: `stored` is what
   * openFile and deleteFile take, `localPath` a path to show now */
  keepFile(id: string, localPath: string, name: string): Promise<{ stored: string; localPath: string }>
  /** A path that uni.uploadFile and <image> take, valid until release();
   * rejects with FileMissingError when the bytes are gone */
  openFile(stored: string): Promise<{ path: string; release(): void }>
  deleteFile(stored: string): Promise<void>
  /** The offline cache's entries (createOfflineCache) */
  getCached(key: string): Promise<CacheEntry | undefined>
  setCached(key: string, entry: CacheEntry): Promise<void>
  deleteCached(key: string): Promise<void>
  clearCached(): Promise<void>
}

/** The bytes of a kept file are gone (the OS cleared them, storage was wiped) */
export class FileMissingError extends Error {
  constructor(stored: string) {
    super('outbox file missing: ' + stored)
    this.name = 'FileMissingError'
    Object.setPrototypeOf(this, FileMissingError.prototype)
  }
}

export interface OutboxOptions {
  api: OutboxApi
  store: OutboxStore
  /** The clock (ms), Date.now by default */
  now?(): number
  /** Jitter source in [0, 1), Math.random by default */
  random?(): number
  /** Whether the phone has a network now; by default what uni and the
   * browser last said (nothing is tried while it is false) */
  online?(): boolean
  /** Called with every item after each change */
  onChange?(items: OutboxItem[]): void
  /** How long a sent item is kept for the task's view (ms, 10 minutes) */
  keepSent?: number
}

export interface Outbox {
  /** Adds an item, kept (with its file) before the promise resolves; sent
   * at once when started and online. Steps cite their uploads by item id. */
  add(item: NewOutboxItem): Promise<OutboxItem>
  /** The items (of a task), in the order added, sent ones included */
  items(taskId?: number): Promise<OutboxItem[]>
  /** The items (of a task) not sent yet: pending, sending or refused */
  pending(taskId?: number): Promise<OutboxItem[]>
  /** The items as they are now, without waiting for the store to load
   * (empty before it has): for a view's first render */
  snapshot(taskId?: number): OutboxItem[]
  /** Resolves once the items kept by the store are loaded */
  ready(): Promise<void>
  /** A pending item: try it now. A refused one: pending again with the same
   * key (the refused request wrote nothing), and the steps refused because
   * of this upload with it */
  retry(id: string): Promise<void>
  /** Drops an item not being sent (and its file); an upload leaves the
   * values of the steps citing it, a step takes with it the unsent uploads
   * only it cites */
  discard(id: string): Promise<void>
  /** A refused step (or decline: `{reason}`), changed by the engineer:
   * new values, a NEW key, pending again */
  edit(id: string, values: Record<string, unknown>): Promise<OutboxItem>
  /** Sends what is due now, in the order added; resolves when nothing due
   * is left */
  flush(): Promise<void>
  /** Sends in the background: now, at each back-off's end and when the
   * network comes back. Called again (after a new login), sends what
   * waits at once, back-offs forgotten. */
  start(): void
  stop(): void
  /** Listens to every change; returns the function that stops listening */
  onChange(listener: (items: OutboxItem[]) => void): () => void
  /** A URL or path to show an upload's file (a pending photo), also after
   * a reload; cached until the item is gone */
  fileUrl(id: string): Promise<string>
}
