// @vitest-environment node
// The H5 store: IndexedDB (fake-indexeddb) with Node's Blob, URL and fetch,
// which read blob: URLs as a browser does. A reload is a new store and a
// new outbox on the same IndexedDB; the blob: URLs of the old page are dead.
import { IDBFactory } from 'fake-indexeddb'
import { beforeEach, describe, expect, it } from 'vitest'
import { createOfflineCache, createOutbox, IndexedDbStore, type OutboxItem } from '../src/outbox'
import { action, fakeServer, PHOTOS } from './outbox-fake'

let browser: IDBFactory
let server: ReturnType<typeof fakeServer>

beforeEach(() => {
  browser = new IDBFactory()
  server = fakeServer()
})

function page(online = true) {
  const store = new IndexedDbStore('outbox', browser)
  return { store, outbox: createOutbox({ api: server.api, store, random: () => 0.5, online: () => online }) }
}

/** A photo as the page has it after choosing or compressing it */
function chosen(content: string): string {
  return URL.createObjectURL(new Blob([content], { type: 'image/jpeg' }))
}

/** What the database holds, read as another page would */
async function raw(store: string): Promise<{ key: IDBValidKey; value: unknown }[]> {
  const database: IDBDatabase = await new Promise((resolve, reject) => {
    const request = browser.open('outbox')
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
  const objects = database.transaction(store).objectStore(store)
  const [keys, values] = await Promise.all([objects.getAllKeys(), objects.getAll()].map((request) =>
    new Promise<unknown[]>((resolve) => { request.onsuccess = () => resolve(request.result as unknown[]) })))
  database.close()
  return keys.map((key, index) => ({ key: key as IDBValidKey, value: values[index] }))
}

describe('IndexedDbStore', () => {
  it('keeps the photos as Blobs, which a reload offline does not lose', async () => {
    const before = page(false)
    const urls = [chosen('JPEG pump'), chosen('JPEG seal')]
    const pump = await before.outbox.add({ taskId: 7, kind: 'upload', payload: { localPath: urls[0], name: 'pump.jpg', kind: 'photo' } })
    const seal = await before.outbox.add({ taskId: 7, kind: 'upload', payload: { localPath: urls[1], name: 'seal.jpg', kind: 'photo' } })
    const step = await before.outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { description: '密封圈老化', photos: [seal.id, pump.id] } },
    })
    await before.outbox.flush()
    expect(server.requests).toHaveLength(0)

    const files = await raw('files')
    expect(files.map((file) => file.key).sort()).toEqual([pump.id, seal.id].sort())
    for (const file of files) {
      const kept = file.value as { blob: Blob; name: string }
      expect(kept.blob).toBeInstanceOf(Blob)
      expect(kept.blob.type).toBe('image/jpeg')
    }
    const bytes = files.find((file) => file.key === pump.id)!.value as { blob: Blob }
    expect(await bytes.blob.text()).toBe('JPEG pump')

    // The page dies: its blob: URLs with it
    for (const url of urls) URL.revokeObjectURL(url)
    await expect(fetch(urls[0])).rejects.toThrow()

    const after = page(true)
    const items = await after.outbox.items(7)
    expect(items.map((item) => [item.id, item.key, item.state])).toEqual([
      [pump.id, pump.key, 'pending'], [seal.id, seal.key, 'pending'], [step.id, step.key, 'pending'],
    ])
    // A pending photo shows after the reload, from a fresh URL
    const shown = await after.outbox.fileUrl(pump.id)
    expect(shown).not.toBe(urls[0])
    expect(await (await fetch(shown)).text()).toBe('JPEG pump')

    await after.outbox.flush()
    expect(server.files.map((file) => [file.name, file.content])).toEqual([['pump.jpg', 'JPEG pump'], ['seal.jpg', 'JPEG seal']])
    expect(server.steps).toEqual([{
      taskId: 7, body: { action: 'submit_assessment', description: '密封圈老化', photos: [server.fileId('JPEG seal'), server.fileId('JPEG pump')] },
    }])
    // Each upload got a URL of the new page, released once sent
    const uploads = server.requests.filter((request) => request.path.endsWith('/files'))
    expect(uploads).toHaveLength(2)
    expect((await after.outbox.items()).every((item) => item.state === 'sent')).toBe(true)
  })

  it('sends an upload whose answer was lost again with the same key and bytes: one file', async () => {
    const { outbox } = page()
    server.fail('lost')
    const pump = await outbox.add({ taskId: 7, kind: 'upload', payload: { localPath: chosen('JPEG pump'), name: 'pump.jpg', kind: 'photo' } })
    await outbox.flush()
    await outbox.retry(pump.id)
    await outbox.flush()
    expect(server.files).toHaveLength(1)
    expect(server.requests.map((request) => [request.key, request.outcome])).toEqual([[pump.key, 'done'], [pump.key, 'replayed']])
    const [sent] = await outbox.items() as (OutboxItem & { kind: 'upload' })[]
    expect(sent.payload.fileId).toBe(server.files[0].id)
  })

  it('keeps items through a crash while sending, and drops what is discarded', async () => {
    const first = page()
    server.fail('hang')
    const accept = await first.outbox.add({ taskId: 9, kind: 'accept', payload: {} })
    const pump = await first.outbox.add({ taskId: 7, kind: 'upload', payload: { localPath: chosen('JPEG pump'), name: 'pump.jpg', kind: 'photo' } })
    void first.outbox.flush()
    const states = async () => Object.fromEntries((await raw('items'))
      .map((item) => [item.key, (item.value as OutboxItem).state]))
    await expect.poll(states).toEqual({ [accept.id]: 'sending', [pump.id]: 'pending' })

    const second = page(false)
    await second.outbox.discard(pump.id)
    expect((await raw('files'))).toEqual([])
    expect((await raw('items')).map((item) => item.key)).toEqual([accept.id])
    expect((await second.outbox.items())[0]).toMatchObject({ id: accept.id, key: accept.key, state: 'pending' })
  })

  it('keeps the offline cache in the database', async () => {
    const cache = createOfflineCache(new IndexedDbStore('outbox', browser), { now: () => 1234 })
    await cache.set('tasks', { items: [{ id: 7, number: 'T7' }] })
    await cache.set('task:7', { id: 7 })
    const reloaded = createOfflineCache(new IndexedDbStore('outbox', browser))
    expect(await reloaded.entry('tasks')).toEqual({ value: { items: [{ id: 7, number: 'T7' }] }, savedAt: 1234 })
    await reloaded.remove('task:7')
    expect(await reloaded.get('task:7')).toBeUndefined()
    await reloaded.clear()
    expect(await reloaded.get('tasks')).toBeUndefined()
  })
})
