// What moved here from the two apps: the upload tiles, the privacy pop-up
// and WeChat's privacy handler, the loading state, the tab bar's texts, the
// catalog kept in storage, an app's API client and the photo ladder.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import UploadTiles from '../src/components/UploadTiles.vue'
import PrivacyPopup from '../src/components/PrivacyPopup.vue'
import LoadState from '../src/components/LoadState.vue'
import { createI18n } from '../src/i18n'
import { createAppApi } from '../src/api/app'
import { keptCatalog } from '../src/catalog'
import { tabBarLocalizer } from '../src/tabBar'
import { storage } from '../src/platform'
import { LADDER, shrinkPhoto } from '../src/photo'
import { agreePrivacy, declinePrivacy, installPrivacyHandler, privacyState, resetPrivacy } from '../src/privacy'
import type { UploadTile } from '../src/upload'
import { uniMock } from './setup'

declare const process: { env: Record<string, string | undefined> }

// wd-popup portals through wd-root-portal, a renderjs component that only
// uni's compiler reads: a popup that shows its content while open
vi.mock('wot-design-uni/components/wd-popup/wd-popup.vue', async () => {
  const { defineComponent, h } = await import('vue')
  return {
    default: defineComponent({
      props: { modelValue: Boolean },
      setup: (props, { slots }) => () => (props.modelValue ? h('div', { class: 'popup' }, slots.default?.()) : null),
    }),
  }
})

const MESSAGES = {
  'zh-CN': { 'upload.add_photo': '拍照/相册', 'upload.add_document': '添加文档', 'privacy.popup.decline': '拒绝' },
  en: { 'upload.add_photo': 'Photo', 'upload.add_document': 'Document', 'tab.a': 'A', 'tab.b': 'B' },
}

function tile(fields: Partial<UploadTile>): UploadTile {
  return { key: 'k', name: 'a.jpg', kind: 'photo', thumbnail: '', state: 'waiting', busy: false, text: '', removable: true, ...fields }
}

describe('UploadTiles', () => {
  beforeEach(() => {
    createI18n(MESSAGES, 'zh-CN')
  })

  it('shows each file with where its upload stands, and adds while under max', async () => {
    const tiles = [
      tile({ key: 'a', state: 'uploading', busy: true, progress: 40, text: '40%' }),
      tile({ key: 'b', name: 'b.pdf', kind: 'document', state: 'failed', failed: true, retry: true, text: '上传失败', error: '网络连接失败' }),
      tile({ key: 'c', thumbnail: 'blob:c', state: 'done', done: true }),
      tile({ key: 'd', state: 'compressing', busy: true, spinner: true, text: '压缩中', removable: false }),
    ]
    const wrapper = mount(UploadTiles, {
      props: { tiles, label: '照片', max: 5, min: 2, required: true, documents: true, testId: 'upload-files', errorTest: 'error-files', error: '至少 2 张' },
    })
    expect(wrapper.attributes('data-test')).toBe('upload-files')
    expect(wrapper.find('.upload-tiles__count').text()).toBe('4/5（≥2）')
    const shown = wrapper.findAll('[data-test="upload-tile"]')
    expect(shown.map((one) => one.classes().find((name) => name.startsWith('is-') && name !== 'is-photo' && name !== 'is-document')))
      .toEqual(['is-uploading', 'is-failed', 'is-done', 'is-compressing'])
    expect(shown[0].find('.tile__progress').attributes('style')).toContain('width: 40%')
    expect(shown[1].find('.tile__overlay').classes()).toContain('is-failed')
    expect(shown[2].find('image').attributes('src')).toBe('blob:c')
    expect(shown[2].find('.tile__done').exists()).toBe(true)
    expect(shown[3].find('[data-test="upload-remove"]').exists()).toBe(false)
    expect(wrapper.findAll('.upload-tiles__error').map((one) => one.text())).toEqual(['b.pdf：网络连接失败', '至少 2 张'])
    expect(wrapper.find('[data-test="error-files"]').text()).toBe('至少 2 张')

    await shown[1].find('[data-test="upload-retry"]').trigger('click')
    await shown[0].find('[data-test="upload-remove"]').trigger('click')
    await shown[2].find('image').trigger('click')
    await wrapper.find('[data-test="add-document"]').trigger('click')
    expect(wrapper.emitted('retry')).toEqual([['b']])
    expect(wrapper.emitted('remove')).toEqual([['a']])
    expect(wrapper.emitted('preview')).toEqual([['c']])
    expect(wrapper.emitted('add')).toEqual([['document']])

    await wrapper.setProps({ max: 4, documents: false })
    expect(wrapper.find('[data-test="add-photo"]').exists()).toBe(false)
    await wrapper.setProps({ max: 9, testPrefix: 'file' })
    expect(wrapper.find('[data-test="add-photo"]').exists()).toBe(true)
    expect(wrapper.find('[data-test="add-document"]').exists()).toBe(false)
    expect(wrapper.findAll('[data-test="file-tile"]')).toHaveLength(4)
  })
})

describe('WeChat privacy', () => {
  beforeEach(() => {
    resetPrivacy()
    createI18n(MESSAGES, 'zh-CN')
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.stubGlobal('uni', uniMock)
    delete process.env.UNI_PLATFORM
  })

  it('listens once on WeChat only, shows the pop-up while WeChat waits, gives the answer back', async () => {
    const onNeedPrivacyAuthorization = vi.fn()
    vi.stubGlobal('wx', { onNeedPrivacyAuthorization })
    process.env.UNI_PLATFORM = 'h5'
    expect(installPrivacyHandler()).toBe(false)
    process.env.UNI_PLATFORM = 'mp-weixin'
    expect(installPrivacyHandler()).toBe(true)
    expect(installPrivacyHandler()).toBe(false)
    const wrapper = mount(PrivacyPopup, { props: { policyUrl: '/pages/policy' } })
    expect(wrapper.find('[data-test="privacy-popup"]').exists()).toBe(false)
    const handler = onNeedPrivacyAuthorization.mock.calls[0][0]
    const resolve = vi.fn()
    handler(resolve)
    expect(privacyState.visible).toBe(true)
    await flushPromises()
    expect(wrapper.find('[data-test="privacy-popup"]').exists()).toBe(true)
    const navigateTo = vi.fn()
    ;(uniMock as Record<string, unknown>).navigateTo = navigateTo
    await wrapper.find('.privacy__link').trigger('click')
    expect(navigateTo).toHaveBeenCalledWith({ url: '/pages/policy' })
    const decline = wrapper.findAll('.privacy__button').find((one) => one.text() === '拒绝')!
    await decline.trigger('click')
    expect(resolve).toHaveBeenCalledWith({ event: 'disagree' })
    expect(privacyState.visible).toBe(false)
    await flushPromises()
    expect(wrapper.find('[data-test="privacy-popup"]').exists()).toBe(false)
    handler(resolve)
    agreePrivacy()
    expect(resolve).toHaveBeenLastCalledWith({ event: 'agree', buttonId: 'agree-privacy' })
    declinePrivacy()
    expect(resolve).toHaveBeenCalledTimes(2)
    wrapper.unmount()
  })
})

describe('LoadState', () => {
  it('shows loading, or the failure with a retry', async () => {
    createI18n({ 'zh-CN': {}, en: {} }, 'zh-CN')
    const wrapper = mount(LoadState)
    expect(wrapper.find('.wd-loading').exists()).toBe(true)
    await wrapper.setProps({ failed: '网络连接失败' })
    expect(wrapper.find('.state__text').text()).toBe('网络连接失败')
    await wrapper.find('.wd-button').trigger('click')
    expect(wrapper.emitted('retry')).toHaveLength(1)
    expect(wrapper.find('.wd-button').text()).toBe('重试')
  })
})

describe('the tab bar in English', () => {
  it('names the tabs once, again after a refusal, never in Chinese', () => {
    const setTabBarItem = vi.fn()
    ;(uniMock as Record<string, unknown>).setTabBarItem = setTabBarItem
    tabBarLocalizer(createI18n(MESSAGES, 'zh-CN'), ['tab.a', 'tab.b'])()
    expect(setTabBarItem).not.toHaveBeenCalled()
    const localize = tabBarLocalizer(createI18n(MESSAGES, 'en'), ['tab.a', 'tab.b'])
    localize()
    expect(setTabBarItem.mock.calls.map(([options]) => [options.index, options.text])).toEqual([[0, 'A'], [1, 'B']])
    localize()
    expect(setTabBarItem).toHaveBeenCalledTimes(2)
    setTabBarItem.mock.calls[0][0].fail()
    localize()
    expect(setTabBarItem).toHaveBeenCalledTimes(4)
  })
})

describe("an app's API", () => {
  it('sends the kept token and the language, keeps the catalog, tells the app of a 401', async () => {
    const i18n = createI18n({ 'zh-CN': { 'error.network': '没有网络' }, en: {} }, 'zh-CN')
    const app = createAppApi({ baseUrl: 'https://service.example.com', i18n, tokenKey: 'my.token' })
    app.tokenStore.set('tok-1')
    expect(uniMock.setStorageSync).toHaveBeenCalledWith('my.token', 'tok-1')
    const seen: Array<{ url: string; header: Record<string, string> }> = []
    uniMock.request.mockImplementation((options) => {
      seen.push({ url: options.url, header: options.header })
      const path = options.url.replace('https://service.example.com/api/v1', '')
      if (path === '/config') options.success({ statusCode: 200, header: {}, data: JSON.stringify({ service_phone: '400' }) })
      else if (path === '/order-types') options.success({ statusCode: 200, header: {}, data: JSON.stringify({ items: [] }) })
      else options.success({ statusCode: 401, header: {}, data: JSON.stringify({ code: 'unauthorized', message: 'no' }) })
    })
    const catalog = keptCatalog(app.api, 'test')
    expect(catalog.config()).toBeNull()
    const read = await catalog.fetch()
    expect(read.config).toEqual({ service_phone: '400' })
    expect(catalog.config()).toEqual({ service_phone: '400' })
    expect(storage.get('test.order-types')).toEqual({ items: [] })
    expect(seen[0].header.Authorization).toBe('Bearer tok-1')
    expect(seen[0].header['Accept-Language']).toBe('zh_CN')

    const unauthorized = vi.fn()
    app.onUnauthorized(unauthorized)
    await expect(app.client.get('/orders')).rejects.toMatchObject({ status: 401 })
    expect(unauthorized).toHaveBeenCalledTimes(1)
    app.tokenStore.set(null)
    expect(app.tokenStore.get()).toBeNull()

    uniMock.request.mockImplementation((options) => options.fail({ errMsg: 'request:fail' }))
    await expect(app.client.post('/orders', {})).rejects.toMatchObject({ status: 0, message: '没有网络' })
  })
})

describe('making a photo small', () => {
  it("climbs the app's ladder with uni.compressImage until it is small enough", async () => {
    const compressImage = vi.fn(({ quality, compressedWidth, success }) => success({ tempFilePath: `tmp/${compressedWidth}-${quality}` }))
    const getFileInfo = vi.fn(({ filePath, success }) => success({ size: filePath === 'tmp/1280-60' ? 500 * 1024 : 900 * 1024 }))
    Object.assign(uniMock, { compressImage, getFileInfo, getImageInfo: vi.fn() })
    const photo = { path: 'tmp/IMG.HEIC.jpeg', name: 'IMG.jpeg', size: 4 * 1024 * 1024, width: 4000, height: 3000 }
    const ladder = [{ side: 1600, quality: 0.8 }, { side: 1280, quality: 0.6 }, { side: 1024, quality: 0.5 }]
    const small = await shrinkPhoto(photo, { canvas: false, ladder })
    expect(small).toEqual({ path: 'tmp/1280-60', name: 'IMG.jpg', size: 500 * 1024, type: 'image/jpeg' })
    expect(compressImage.mock.calls.map(([options]) => [options.compressedWidth, options.quality])).toEqual([[1600, 80], [1280, 60]])
    compressImage.mockClear()
    getFileInfo.mockImplementation(({ success }) => success({ size: 5 * 1024 * 1024 }))
    expect(await shrinkPhoto(photo, { canvas: false })).toBe(photo)
    expect(compressImage).toHaveBeenCalledTimes(LADDER.length)
  })
})
