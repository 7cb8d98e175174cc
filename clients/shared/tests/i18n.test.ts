import { describe, expect, it, vi } from 'vitest'
import { createI18n, currentI18n, detectLocale, interpolate, localeOf } from '../src/i18n'
import { uniMock } from './setup'

const messages = {
  'zh-CN': { 'order.number': '订单号：{number}', 'order.only_zh': '仅中文', 'error.network': '没有网络' },
  en: { 'order.number': 'Order {number}' },
}

describe('i18n', () => {
  it('interpolates {name}, leaving unknown placeholders', () => {
    const i18n = createI18n(messages, 'zh-CN')
    expect(i18n.t('order.number', { number: 'FW2612050001' })).toBe('订单号：FW2612050001')
    expect(i18n.t('order.number')).toBe('订单号：{number}')
    expect(interpolate('{a} {b} {a}', { a: 1, b: null })).toBe('1 {b} 1')
  })

  it('falls back to Chinese, then to the key; app messages override shared ones', () => {
    const en = createI18n(messages, 'en')
    expect(en.t('order.number', { number: 7 })).toBe('Order 7')
    expect(en.t('order.only_zh')).toBe('仅中文')
    expect(en.t('no.such.key')).toBe('no.such.key')
    expect(en.t('timeline.status.skipped')).toBe('Skipped')
    expect(en.t('error.network')).toBe('No connection: check the network and try again')
    expect(createI18n(messages, 'zh-CN').t('error.network')).toBe('没有网络')
  })

  it('gives the API its language', () => {
    expect(createI18n(messages, 'zh-CN').apiLanguage()).toBe('zh_CN')
    expect(createI18n(messages, 'en').apiLanguage()).toBe('en')
  })

  it('detects the phone\'s language', () => {
    uniMock.getAppBaseInfo.mockReturnValue({ language: 'en-US' })
    expect(detectLocale()).toBe('en')
    expect(createI18n(messages).locale).toBe('en')
    uniMock.getAppBaseInfo.mockReturnValue({ language: 'zh_CN' })
    expect(detectLocale()).toBe('zh-CN')
    // Older WeChat: no getAppBaseInfo, the system info says it
    uniMock.getAppBaseInfo.mockReturnValue({})
    uniMock.getSystemInfoSync.mockReturnValue({ language: 'en' })
    expect(detectLocale()).toBe('en')
    // Nothing from uni: the browser's
    uniMock.getSystemInfoSync.mockImplementation(() => { throw new Error('not here') })
    vi.spyOn(navigator, 'language', 'get').mockReturnValue('zh-TW')
    expect(detectLocale()).toBe('zh-CN')
    vi.restoreAllMocks()
  })

  it('maps language tags to a locale', () => {
    expect(localeOf('zh-Hans')).toBe('zh-CN')
    expect(localeOf('ZH_cn')).toBe('zh-CN')
    expect(localeOf('de-DE')).toBe('en')
    expect(localeOf('')).toBe('zh-CN')
    expect(localeOf(undefined)).toBe('zh-CN')
  })

  it('gives the shared components the app\'s i18n', () => {
    const i18n = createI18n(messages, 'en')
    expect(currentI18n()).toBe(i18n)
  })
})
