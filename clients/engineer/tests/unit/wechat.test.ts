// The WeChat build: a password login links this WeChat once (wx.login →
// POST /auth/wechat/link); later starts log in by WeChat (POST
// /auth/wechat/engineer), a 401 wechat_not_linked sends to the password
// form; accepting asks for the engineers' subscription templates (≤ 5, in
// the tap) and the app counts what is left; the privacy agreement before
// the first private API; the manifest's location declarations.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { deviceName, installSession, useSessionStore } from '@/stores/session'
import { alertsLeft, ledger, noticesReceived, requestAlerts, templateIds } from '@/composables/subscribe'
import { agreePrivacy, declinePrivacy, installPrivacyHandler, privacyState, resetPrivacy } from '@instrument/shared'
import { pickDocuments } from '@/composables/photos'
import { api } from '@/services/api'
import { serve, storedValue, uniMock, wxMock } from './setup'

const session = (token: string) => ({
  token, token_type: 'Bearer', expires_in: 2592000, push_alias: 'u2',
  engineer: { id: 2, name: 'zhangwei', employee: '张伟' },
})
const config = (count: number) => ({
  wechat: { subscribe_templates: {}, engineer_templates: Object.fromEntries(Array.from({ length: count }, (_, i) => [`kind${i}`, `tmpl-${i}`])) },
}) as never

beforeEach(() => {
  setActivePinia(createPinia())
  process.env.UNI_PLATFORM = 'mp-weixin'
})

describe('logging in on WeChat', () => {
  it('names the device after the phone', () => {
    expect(deviceName()).toBe('HUAWEI Mate 60 / 工程师App (微信)')
    process.env.UNI_PLATFORM = 'h5'
    uniMock.getSystemInfoSync.mockReturnValue({ platform: 'android', osName: 'android', browserName: 'chrome', deviceModel: 'PC' })
    expect(deviceName()).toBe('android chrome / 工程师App (H5)')
  })

  it('links this WeChat once after a password login, with the device session’s token', async () => {
    let codes = 0
    uniMock.login.mockImplementation(({ provider, success }) => {
      expect(provider).toBe('weixin')
      success({ code: `code-${++codes}` })
    })
    const seen = serve(({ url }) => {
      if (url.endsWith('/auth/login')) return { statusCode: 200, data: session('e.token-1') }
      if (url.endsWith('/auth/wechat/link')) return { statusCode: 204 }
      return null
    })
    const store = useSessionStore()
    await store.login(' zhangwei ', 'secret')
    expect(seen[0].body).toEqual({ login: 'zhangwei', password: 'secret', device_name: 'HUAWEI Mate 60 / 工程师App (微信)' })
    expect(seen[1]).toMatchObject({ url: expect.stringMatching(/\/api\/v1\/auth\/wechat\/link$/), body: { code: 'code-1' } })
    expect(seen[1].header.Authorization).toBe('Bearer e.token-1')
    expect(store.wechatLinked).toBe(true)
    expect(storedValue('session.token')).toBe('e.token-1')
    // Next password login (another session): no second link
    await store.login('zhangwei', 'secret')
    expect(seen.filter((request) => request.url.endsWith('/link'))).toHaveLength(1)
  })

  it('does not link on H5', async () => {
    process.env.UNI_PLATFORM = 'h5'
    const seen = serve(() => ({ statusCode: 200, data: session('e.token-h5') }))
    await useSessionStore().login('zhangwei', 'secret')
    expect(seen).toHaveLength(1)
    expect(uniMock.login).not.toHaveBeenCalled()
  })

  it('starts by WeChat once linked; not linked: the password form', async () => {
    uniMock.login.mockImplementation(({ success }) => success({ code: 'code-x' }))
    let linked = true
    const seen = serve(({ url }) => {
      if (!url.endsWith('/auth/wechat/engineer')) return null
      return linked
        ? { statusCode: 200, data: session('e.wechat-1') }
        : { statusCode: 401, data: { error: { code: 'wechat_not_linked', message: '此微信未绑定工程师账号' } } }
    })
    const store = useSessionStore()
    expect(await store.ensure()).toBe(true)
    expect(seen[0].body).toEqual({ code: 'code-x', device_name: 'HUAWEI Mate 60 / 工程师App (微信)' })
    expect(store.token).toBe('e.wechat-1')

    setActivePinia(createPinia())
    uniMock.getStorageSync.mockReturnValue('')
    linked = false
    const fresh = useSessionStore()
    expect(await fresh.require()).toBe(false)
    expect(fresh.wechatNotLinked).toBe(true)
    expect(fresh.wechatProblem).toMatch(/请先用账号密码登录/)
    expect(uniMock.reLaunch).toHaveBeenCalledWith({ url: '/pages/login/index' })
  })

  it('logs in by WeChat again when the server ends the session (401)', async () => {
    uniMock.login.mockImplementation(({ success }) => success({ code: 'code-y' }))
    let tokens = 0
    serve(({ url, header }) => {
      if (url.endsWith('/auth/wechat/engineer')) return { statusCode: 200, data: session(`e.token-${++tokens}`) }
      return header.Authorization === 'Bearer e.token-1'
        ? { statusCode: 401, data: { error: { code: 'unauthorized', message: 'expired' } } }
        : { statusCode: 200, data: { items: [], page: 1, page_size: 20, total: 0 } }
    })
    const store = useSessionStore()
    installSession(store)
    await store.ensure()
    await expect(api.tasks()).rejects.toMatchObject({ status: 401 })
    await vi.waitFor(() => expect(store.token).toBe('e.token-2'))
    await expect(api.tasks()).resolves.toMatchObject({ total: 0 })
  })
})

describe('subscription messages of the engineers', () => {
  it('asks at most 5 templates, in the tap, only on WeChat, and counts the grants', async () => {
    expect(templateIds(config(7))).toEqual(['tmpl-0', 'tmpl-1', 'tmpl-2', 'tmpl-3', 'tmpl-4'])
    uniMock.requestSubscribeMessage.mockImplementation(({ tmplIds, success }) => success(
      Object.fromEntries(tmplIds.map((id: string, i: number) => [id, i < 3 ? 'accept' : 'reject']))))
    // Called synchronously: WeChat allows it only within the tap
    const asked = requestAlerts(config(7))
    expect(uniMock.requestSubscribeMessage).toHaveBeenCalledOnce()
    expect(await asked).toBe(3)
    expect(alertsLeft()).toBe(3)
    noticesReceived(2)
    expect(alertsLeft()).toBe(1)
    noticesReceived(4)
    // None left: said, and counting starts afresh at the next grant
    expect(alertsLeft()).toBe(0)
    expect(ledger()).toEqual({ granted: 0, used: 0 })
  })

  it('asks nothing on H5 or without templates; a refusal changes nothing', async () => {
    process.env.UNI_PLATFORM = 'h5'
    expect(await requestAlerts(config(3))).toBe(0)
    process.env.UNI_PLATFORM = 'mp-weixin'
    expect(await requestAlerts(config(0))).toBe(0)
    expect(uniMock.requestSubscribeMessage).not.toHaveBeenCalled()
    uniMock.requestSubscribeMessage.mockImplementation(({ fail }) => fail({ errMsg: 'requestSubscribeMessage:fail cancel' }))
    expect(await requestAlerts(config(3))).toBe(0)
  })
})

describe('privacy and files on WeChat', () => {
  it('shows the privacy pop-up when WeChat asks, and answers it', () => {
    resetPrivacy()
    expect(installPrivacyHandler()).toBe(true)
    const handler = wxMock.onNeedPrivacyAuthorization.mock.calls[0][0]
    const resolve = vi.fn()
    handler(resolve)
    expect(privacyState.visible).toBe(true)
    agreePrivacy()
    expect(resolve).toHaveBeenCalledWith({ event: 'agree', buttonId: 'agree-privacy' })
    expect(privacyState.visible).toBe(false)
    handler(resolve)
    declinePrivacy()
    expect(resolve).toHaveBeenLastCalledWith({ event: 'disagree' })
  })

  it('picks documents from chats (wx.chooseMessageFile); the app has no document picker', async () => {
    wxMock.chooseMessageFile.mockImplementation(({ success, extension }) => {
      expect(extension).toEqual(['pdf', 'docx'])
      success({ tempFiles: [{ path: 'wxfile://tmp/a.pdf', size: 2048, name: '报告.pdf' }] })
    })
    expect(await pickDocuments(3, ['pdf', 'docx'])).toEqual([{ path: 'wxfile://tmp/a.pdf', name: '报告.pdf', size: 2048 }])
    process.env.UNI_PLATFORM = 'app'
    expect(pickDocuments(3, ['pdf'])).toBeNull()
  })

  it('declares the location in the manifest, with a reason, and the privacy check', () => {
    const manifest = JSON.parse(readFileSync(path.join(__dirname, '../../manifest.json'), 'utf8'))
    const weixin = manifest['mp-weixin']
    expect(weixin.requiredPrivateInfos).toEqual(['getLocation'])
    expect(weixin.permission['scope.userLocation'].desc).toMatch(/打卡/)
    expect(weixin.__usePrivacyCheck__).toBe(true)
  })
})
