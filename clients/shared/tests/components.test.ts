import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ProgressTimeline from '../src/components/ProgressTimeline.vue'
import FileList from '../src/components/FileList.vue'
import StarRating from '../src/components/StarRating.vue'
import { createClient, type Schemas } from '../src/api/client'
import { createI18n } from '../src/i18n'
import { clearFileCache } from '../src/platform'
import { uniMock } from './setup'
import examples from '../../../addons/instrument_service_api/examples.json'

type Order = Schemas['OrderDetail']

const PHOTO = examples['POST /files'] as Schemas['File']
const PDF: Schemas['File'] = {
  id: 2, name: '报价单.pdf', mimetype: 'application/pdf', size: 52344, url: '/api/v1/files/2', thumbnail_url: null,
}

/** The order of GET /orders/{order_id}, accepted and visited: its first two
 * steps done with their records, the third current */
function progressedOrder(): Order {
  const order = structuredClone(examples['GET /orders/{order_id}']) as Order
  const [accepted, visit, assessment] = order.progress.steps
  const record = (fields: Partial<Schemas['ProgressRecord']>): Schemas['ProgressRecord'] => ({
    id: 0, action: 'accept', label: '', date: '2026-12-05T10:22:55+08:00', actor_role: 'engineer',
    actor_name: '工程师00', description: null, reason: null, photos: [], files: [], visit_mode: null,
    appointment: null, check_in: null, quote: null, report: null, ...fields,
  })
  accepted.status = 'done'
  accepted.records = [record({ id: 3, label: '工程师已接单' })]
  visit.status = 'done'
  visit.records = [record({
    id: 4, action: 'visit_onsite', label: '上门服务', date: '2026-12-06T09:05:00+08:00',
    visit_mode: 'onsite', appointment: '2026-12-08T10:00:00+08:00', description: '带上备用泵头',
    photos: [PHOTO], files: [PDF],
  })]
  assessment.status = 'current'
  assessment.hint = '请稍等，正在为您出维修方案和报价'
  order.progress.current_step = 'assessment'
  return order
}

function downloads() {
  uniMock.downloadFile.mockImplementation((options) => {
    options.success({ statusCode: 200, tempFilePath: 'wxfile://' + options.url.split('/api/v1/')[1] })
  })
}

describe('ProgressTimeline', () => {
  beforeEach(() => {
    clearFileCache()
    createI18n({ 'zh-CN': {}, en: {} }, 'zh-CN')
    createClient({ baseUrl: 'https://service.example.com', token: () => 'tok', language: () => 'zh_CN' })
    downloads()
  })

  it('shows the steps of a new order as the API names them', () => {
    const order = examples['GET /orders/{order_id}'] as Order
    const wrapper = mount(ProgressTimeline, { props: { steps: order.progress.steps } })
    const titles = wrapper.findAll('.wd-step__title').map((title) => title.text())
    expect(titles).toEqual(order.progress.steps.map((step) => step.name))
    expect(titles).toEqual(['已接单', '判断是否需要上门', '检修完成', '维修方案和报价', '维修中', '验证报告', '服务评价', '订单已完成'])
    expect(wrapper.findAll('.wd-step.is-wait')).toHaveLength(8)
    expect(wrapper.find('.is-timeline__record').exists()).toBe(false)
  })

  it('shows done, current and skipped steps, the hint and the records with their evidence', async () => {
    const order = progressedOrder()
    order.progress.steps[4].status = 'skipped'
    const wrapper = mount(ProgressTimeline, { props: { steps: order.progress.steps } })
    await flushPromises()
    const steps = wrapper.findAll('.wd-step')
    expect(steps.map((step) => step.classes().find((name) => /^is-(finished|process|wait)$/.test(name))))
      .toEqual(['is-finished', 'is-finished', 'is-process', 'is-wait', 'is-wait', 'is-wait', 'is-wait', 'is-wait'])
    expect(steps[2].text()).toContain('进行中')
    expect(steps[2].text()).toContain('请稍等，正在为您出维修方案和报价')
    expect(steps[4].text()).toContain('已跳过')

    const visit = steps[1]
    expect(visit.text()).toContain('上门服务')
    expect(visit.text()).toContain('2026-12-06 09:05')
    expect(visit.text()).toContain('上门时间：2026-12-08 10:00')
    expect(visit.text()).toContain('带上备用泵头')
    expect(visit.text()).toContain('工程师00')
    expect(visit.text()).toContain('报价单.pdf')
    // The photo's thumbnail, downloaded with the token
    const image = visit.find('.is-file-list__photo .wd-img__image')
    expect(image.attributes('src')).toBe('wxfile://files/1/thumbnail')
    expect(uniMock.downloadFile.mock.calls[0][0].header).toMatchObject({ Authorization: 'Bearer tok' })

    // Tap the photo: full size
    await visit.find('.is-file-list__photo').trigger('click')
    await flushPromises()
    expect(uniMock.previewImage).toHaveBeenCalledWith({ urls: ['wxfile://files/1'], current: 'wxfile://files/1' })
    // Tap the document: open it
    uniMock.openDocument.mockImplementation((options) => options.success())
    await visit.find('.is-file-list__document').trigger('click')
    await flushPromises()
    expect(uniMock.openDocument.mock.calls[0][0]).toMatchObject({ filePath: 'wxfile://files/2', fileType: 'pdf' })
  })

  it("shows a quote's plan once", () => {
    const order = progressedOrder()
    const record = order.progress.steps[2].records[0] ?? order.progress.steps[1].records[0]
    const quote = { version: 1, state: 'proposed', reason: null, amount: '1000.00', currency: 'CNY',
      plan: '更换泵密封圈', files: [] }
    Object.assign(record, { action: 'submit_quote', description: quote.plan, quote })
    const wrapper = mount(ProgressTimeline, { props: { steps: order.progress.steps } })
    expect(wrapper.text().split('更换泵密封圈')).toHaveLength(2)
    expect(wrapper.text()).toContain('1000.00')
  })

  it('takes the current step from `current`', () => {
    const order = progressedOrder()
    const wrapper = mount(ProgressTimeline, { props: { steps: order.progress.steps, current: 'quote' } })
    const steps = wrapper.findAll('.wd-step')
    expect(steps[3].classes()).toContain('is-process')
    expect(steps[2].classes()).toContain('is-wait')
  })

  it('speaks English', () => {
    createI18n({ 'zh-CN': {}, en: {} }, 'en')
    const order = progressedOrder()
    const wrapper = mount(ProgressTimeline, { props: { steps: order.progress.steps } })
    expect(wrapper.text()).toContain('In progress')
    expect(wrapper.text()).toContain('Visit: 2026-12-08 10:00')
  })
})

describe('FileList', () => {
  beforeEach(() => {
    clearFileCache()
    createI18n({ 'zh-CN': {}, en: {} }, 'zh-CN')
    createClient({ baseUrl: '', token: () => 'tok', language: () => 'zh_CN' })
  })

  it('says when a document cannot be opened', async () => {
    uniMock.downloadFile.mockImplementation((options) => options.success({ statusCode: 404, tempFilePath: '' }))
    const wrapper = mount(FileList, { props: { files: [PDF] } })
    expect(wrapper.text()).toContain('51.1 KB')
    await wrapper.find('.is-file-list__document').trigger('click')
    await flushPromises()
    expect(uniMock.showToast).toHaveBeenCalledWith({ title: '文件打开失败，请稍后重试', icon: 'none' })
    expect(wrapper.emitted('error')).toHaveLength(1)
  })

  it('says there are no files when asked', () => {
    expect(mount(FileList, { props: { files: [], showEmpty: true } }).text()).toBe('暂无文件')
  })
})

describe('StarRating', () => {
  beforeEach(() => {
    createI18n({ 'zh-CN': {}, en: {} }, 'zh-CN')
  })

  it('emits the stars tapped', async () => {
    const wrapper = mount(StarRating, { props: { modelValue: null } })
    const stars = wrapper.findAll('.wd-rate__item .wd-icon')
    expect(stars).toHaveLength(5)
    await stars[3].trigger('click')
    expect(wrapper.emitted('update:modelValue')).toEqual([[4]])
    expect(wrapper.emitted('change')).toEqual([[4]])
  })

  it('shows a rating and changes nothing when readonly', async () => {
    const wrapper = mount(StarRating, { props: { modelValue: 3, readonly: true, showValue: true } })
    expect(wrapper.text()).toContain('3星')
    await wrapper.findAll('.wd-rate__item .wd-icon')[4].trigger('click')
    expect(wrapper.emitted('update:modelValue')).toBeUndefined()
  })
})
