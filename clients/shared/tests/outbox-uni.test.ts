// The store of WeChat and the native app, over a stubbed uni/wx whose
// files live in the stand-in server's "disk"; and the choice of store.
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createOfflineCache, createOutbox, defaultStore, IndexedDbStore, MemoryStore, UniStorageStore,
} from '../src/outbox'
import { action, fakeServer, PHOTOS } from './outbox-fake'
import { uniMock } from './setup'

let server: ReturnType<typeof fakeServer>

/** A reboot of the phone: temp files are gone, saved ones stay */
function reboot() {
  for (const path of [...server.disk.keys()]) {
    if (path.includes('/tmp/')) server.disk.delete(path)
  }
}

function move(from: string, to: string): boolean {
  const content = server.disk.get(from)
  if (content === undefined) return false
  server.disk.delete(from)
  server.disk.set(to, content)
  return true
}

function weChatFiles() {
  return {
    saveFile: vi.fn(({ tempFilePath, filePath, success, fail }) => {
      if (tempFilePath.includes('/tmp/') && move(tempFilePath, filePath)) success()
      else fail({ errMsg: 'saveFile:fail not a temp file' })
    }),
    copyFile: vi.fn(({ srcPath, destPath, success, fail }) => {
      const content = server.disk.get(srcPath)
      if (content === undefined) return fail({ errMsg: 'copyFile:fail no such file' })
      server.disk.set(destPath, content)
      success()
    }),
    unlink: vi.fn(({ filePath, success, fail }) => {
      if (server.disk.delete(filePath)) success()
      else fail({ errMsg: 'unlink:fail' })
    }),
    accessSync: vi.fn((path: string) => {
      if (!server.disk.has(path)) throw new Error('accessSync:fail no such file')
    }),
  }
}

function add(outbox: ReturnType<typeof createOutbox>, content: string) {
  const path = `wxfile://tmp/${content}.jpg`
  server.disk.set(path, content)
  return outbox.add({ taskId: 7, kind: 'upload', payload: { localPath: path, name: `${content}.jpg`, kind: 'photo' } })
}

beforeEach(() => {
  server = fakeServer()
})

afterEach(() => {
  vi.unstubAllEnvs()
  vi.unstubAllGlobals()
  vi.stubGlobal('uni', uniMock)
})

describe('UniStorageStore in WeChat', () => {
  beforeEach(() => {
    vi.stubEnv('UNI_PLATFORM', 'mp-weixin')
    const files = weChatFiles()
    vi.stubGlobal('wx', { env: { USER_DATA_PATH: 'wxfile://usr' }, getFileSystemManager: () => files })
  })

  it('saves the photos out of the temp folder and keeps the items in storage through a reboot', async () => {
    const outbox = createOutbox({ api: server.api, store: new UniStorageStore(), online: () => false })
    const pump = await add(outbox, 'pump')
    const step = await outbox.add({
      taskId: 7, kind: 'step',
      payload: { action: action('submit_assessment', 7, [PHOTOS]), values: { photos: [pump.id] } },
    })
    const saved = `wxfile://usr/outbox-${pump.id}.jpg`
    expect(pump.payload).toMatchObject({ localPath: saved, stored: saved })
    expect(server.disk.get(saved)).toBe('pump')
    // Kept by setStorageSync, which is done when it returns
    expect(uniMock.setStorageSync).toHaveBeenLastCalledWith('outbox:items', expect.any(String))

    reboot()
    const restarted = createOutbox({ api: server.api, store: new UniStorageStore(), online: () => true })
    expect((await restarted.items()).map((item) => [item.id, item.key])).toEqual([[pump.id, pump.key], [step.id, step.key]])
    expect(await restarted.fileUrl(pump.id)).toBe(saved)
    await restarted.flush()
    expect(server.files.map((file) => [file.name, file.content])).toEqual([['pump.jpg', 'pump']])
    expect(server.steps).toEqual([{ taskId: 7, body: { action: 'submit_assessment', photos: [server.fileId('pump')] } }])
  })

  it('copies a file that is no temp file, and deletes what is discarded', async () => {
    const store = new UniStorageStore('box')
    const outbox = createOutbox({ api: server.api, store, online: () => false })
    server.disk.set('wxfile://usr/compressed.jpg', 'small')
    const item = await outbox.add({ taskId: 7, kind: 'upload', payload: { localPath: 'wxfile://usr/compressed.jpg', name: 'a.jpg', kind: 'photo' } })
    expect(server.disk.get(`wxfile://usr/box-${item.id}.jpg`)).toBe('small')
    await outbox.discard(item.id)
    expect(server.disk.has(`wxfile://usr/box-${item.id}.jpg`)).toBe(false)
    expect(await store.loadItems()).toEqual([])
  })

  it('refuses an upload whose saved file the system removed', async () => {
    const outbox = createOutbox({ api: server.api, store: new UniStorageStore(), online: () => true })
    server.fail('network')
    const pump = await add(outbox, 'pump')
    await outbox.flush()
    server.disk.clear()
    await outbox.retry(pump.id)
    await outbox.flush()
    expect((await outbox.items())[0]).toMatchObject({ state: 'refused', error: { code: 'file_missing' } })
    expect(server.requests).toHaveLength(1)
  })
})

describe('UniStorageStore in the app', () => {
  it('saves files with uni.saveFile', async () => {
    vi.stubEnv('UNI_PLATFORM', 'app')
    const saved = new Set<string>()
    vi.stubGlobal('uni', {
      ...uniMock,
      saveFile: vi.fn(({ tempFilePath, success }) => {
        const savedFilePath = '_doc/uniapp_save/' + tempFilePath.split('/').pop()
        move(tempFilePath, savedFilePath)
        saved.add(savedFilePath)
        success({ savedFilePath })
      }),
      getSavedFileInfo: vi.fn(({ filePath, success, fail }) => (saved.has(filePath) ? success() : fail())),
      removeSavedFile: vi.fn(({ filePath, success }) => { saved.delete(filePath); success() }),
    })
    const outbox = createOutbox({ api: server.api, store: new UniStorageStore(), online: () => true })
    await add(outbox, 'pump')
    reboot()
    await createOutbox({ api: server.api, store: new UniStorageStore(), online: () => true }).flush()
    expect(server.files.map((file) => file.content)).toEqual(['pump'])
  })
})

describe('UniStorageStore cache', () => {
  it('keeps entries in uni storage and clears only its own', async () => {
    const keys = ['token', 'outbox:cache:tasks', 'outbox:cache:task:7', 'outbox:items']
    vi.stubGlobal('uni', { ...uniMock, getStorageInfoSync: vi.fn(() => ({ keys })) })
    const cache = createOfflineCache(new UniStorageStore(), { now: () => 99 })
    await cache.set('tasks', [1, 2])
    expect(uniMock.setStorageSync).toHaveBeenCalledWith('outbox:cache:tasks', JSON.stringify({ value: [1, 2], savedAt: 99 }))
    expect(await createOfflineCache(new UniStorageStore()).entry('tasks')).toEqual({ value: [1, 2], savedAt: 99 })
    await cache.clear()
    expect(uniMock.removeStorageSync.mock.calls).toEqual([['outbox:cache:tasks'], ['outbox:cache:task:7']])
  })
})

describe('defaultStore', () => {
  it('picks uni storage in WeChat, IndexedDB on H5, memory elsewhere', () => {
    vi.stubEnv('UNI_PLATFORM', 'mp-weixin')
    expect(defaultStore()).toBeInstanceOf(UniStorageStore)
    vi.stubEnv('UNI_PLATFORM', 'h5')
    vi.stubGlobal('indexedDB', new IDBFactory())
    expect(defaultStore()).toBeInstanceOf(IndexedDbStore)
    vi.stubEnv('UNI_PLATFORM', 'app')
    vi.stubGlobal('uni', { ...uniMock, saveFile: vi.fn() })
    expect(defaultStore()).toBeInstanceOf(UniStorageStore)
    vi.unstubAllGlobals()
    vi.stubGlobal('uni', uniMock)
    vi.stubEnv('UNI_PLATFORM', 'h5')
    expect(defaultStore()).toBeInstanceOf(MemoryStore)
  })
})
