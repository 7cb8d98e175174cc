// Every text a person reads is in the app's messages, in Chinese and in
// English: each key the sources use exists in both; the language follows
// the phone's.
import { describe, expect, it } from 'vitest'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { createI18n, sharedMessages } from '@instrument/shared'
import { messages } from '@/locale'

const ROOT = path.join(__dirname, '../..')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry)
    if (['node_modules', 'dist', 'tests', 'scripts', 'pwa', 'static', 'locale'].includes(entry)) return []
    if (statSync(full).isDirectory()) return sources(full)
    return /\.(vue|ts)$/.test(entry) ? [full] : []
  })
}

describe('the messages', () => {
  it('has every key the sources use, in both languages', () => {
    const used = new Set<string>()
    for (const file of sources(ROOT)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([a-z_.\-0-9]+)'/g)) used.add(match[1])
    }
    expect(used.size).toBeGreaterThan(100)
    const known = (locale: 'zh-CN' | 'en') => ({ ...sharedMessages[locale], ...messages[locale] }) as Record<string, string>
    for (const key of used) {
      for (const locale of ['zh-CN', 'en'] as const) {
        // t('weekday.' + n): a family of keys
        if (key.endsWith('.')) expect(Object.keys(known(locale)).some((name) => name.startsWith(key)), key).toBe(true)
        else expect(known(locale)[key], `${locale} ${key}`).toBeTruthy()
      }
    }
  })

  it('has the same keys and placeholders in English', () => {
    const zh = messages['zh-CN'] as Record<string, string>
    const en = messages.en as Record<string, string>
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort())
    const vars = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort()
    for (const key of Object.keys(zh)) expect(vars(en[key]), key).toEqual(vars(zh[key]))
  })

  it('follows the phone’s language', () => {
    expect(createI18n(messages, 'en').t('offer.accept')).toBe('Accept')
    expect(createI18n(messages, 'zh-CN').t('offer.accept')).toBe('接单')
  })
})
