// Every text a person reads is in the app's messages, in Chinese and in
// English: the two tables have the same keys, and each key the sources use
// is in them.
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import zhCN from '@/locale/zh-CN'
import en from '@/locale/en'
import { sharedMessages } from '@instrument/shared'

const ROOT = path.resolve(__dirname, '../..')
const SOURCES = ['App.vue', 'pages', 'order', 'components', 'composables', 'stores', 'utils']

function files(entry: string): string[] {
  const full = path.join(ROOT, entry)
  try {
    return readdirSync(full, { withFileTypes: true }).flatMap((child) => files(path.join(entry, child.name)))
  } catch {
    return /\.(vue|ts)$/.test(entry) ? [full] : []
  }
}

describe('the messages', () => {
  it('are the same keys in Chinese and in English, none empty', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zhCN).sort())
    for (const table of [zhCN, en]) {
      expect(Object.entries(table).filter(([, text]) => !text.trim())).toEqual([])
    }
  })

  it('hold every key the sources name', () => {
    const known = new Set([...Object.keys(zhCN), ...Object.keys(sharedMessages['zh-CN'])])
    const used = new Set<string>()
    for (const file of SOURCES.flatMap(files)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bt\('([a-z_]+(?:\.[a-z_0-9]+)+)'/g)) {
        used.add(match[1])
      }
    }
    expect(used.size).toBeGreaterThan(50)
    expect([...used].filter((key) => !known.has(key))).toEqual([])
  })

  it('name each service, tab, list and status the pages build keys for', () => {
    const dynamic = [
      ...['repair', 'maintenance', 'recycle', 'rental', 'training', 'validation', 'selection', 'installation']
        .map((code) => `service.${code}`),
      ...['home', 'orders', 'me'].map((tab) => `tab.${tab}`),
      ...['all', 'in_progress', 'awaiting', 'done', 'cancelled'].map((list) => `orders.tab.${list}`),
      ...['quote', 'report'].flatMap((kind) => ['proposed', 'revising', 'rejected', 'confirmed']
        .map((status) => `${kind}.status.${status}`)),
      'quote.revising', 'report.revising',
      ...['attitude', 'quality', 'overall'].map((name) => `rating.${name}`),
      ...['name', 'company', 'department', 'position', 'phone', 'address', 'email']
        .flatMap((name) => [`contact.${name}`, `contact.${name}.placeholder`]),
      ...Array.from({ length: 9 }, (_, i) => [`privacy.s${i + 1}.title`, `privacy.s${i + 1}.text`]).flat(),
      'upload.bad_type', 'upload.photos_only',
    ]
    expect(dynamic.filter((key) => !(key in zhCN))).toEqual([])
  })
})
