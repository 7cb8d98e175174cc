// The check-in's position: WeChat asks for GCJ-02 and says so, the browser
// gives WGS-84 and says so, the app WGS-84; the accuracy travels with it;
// a refusal tells how to allow the location on that platform.
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  LocationError, canOpenSettings, coordinateSystemOf, locate, openSettings, problemMessage, uniProblem,
} from '@/composables/location'
import { messages, t } from '@/locale'
import { uniMock } from './setup'

const NOW = Date.parse('2026-12-05T02:05:09Z')

function browserGeolocation(answer: (success: PositionCallback, failure: PositionErrorCallback) => void) {
  const getCurrentPosition = vi.fn((success: PositionCallback, failure: PositionErrorCallback) => answer(success, failure))
  vi.stubGlobal('navigator', { ...navigator, geolocation: { getCurrentPosition } })
  return getCurrentPosition
}

afterEach(() => {
  vi.unstubAllGlobals()
  // setup's globals again
  vi.stubGlobal('uni', uniMock)
})

describe('WeChat: GCJ-02', () => {
  it('asks wx.getLocation for gcj02 and sends it as gcj02, with the accuracy', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    uniMock.getLocation.mockImplementation((options) => options.success({ latitude: 31.2019812, longitude: 121.6005321, accuracy: 35 }))
    const checkIn = await locate(undefined, () => NOW)
    expect(uniMock.getLocation).toHaveBeenCalledWith(expect.objectContaining({ type: 'gcj02', isHighAccuracy: true }))
    expect(checkIn).toEqual({
      time: '2026-12-05T10:05:09+08:00', latitude: 31.201981, longitude: 121.600532, accuracy: 35,
      coordinate_system: 'gcj02',
    })
  })

  it('tells a refusal (open the settings), WeChat without the phone’s permission, the privacy agreement', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    const cases: Array<[string, string]> = [
      ['getLocation:fail auth deny', 'denied'],
      ['getLocation:fail authorize no response', 'denied'],
      ['getLocation:fail system permission denied', 'system'],
      ['getLocation:fail:ERROR_NOCELL&WIFI_LOCATIONSWITCHOFF', 'system'],
      ['getLocation:fail privacy permission is not authorized', 'privacy'],
      ['getLocation:fail timeout', 'timeout'],
      ['getLocation:fail', 'unavailable'],
    ]
    for (const [errMsg, problem] of cases) {
      uniMock.getLocation.mockImplementation((options) => options.fail({ errMsg }))
      const error = await locate().catch((caught) => caught)
      expect(error, errMsg).toBeInstanceOf(LocationError)
      expect(error.problem, errMsg).toBe(problem)
    }
    expect(problemMessage('denied')).toBe('location.denied.mp-weixin')
    expect(problemMessage('system')).toBe('location.system.mp-weixin')
    expect(canOpenSettings('denied')).toBe(true)
    openSettings()
    expect(uniMock.openSetting).toHaveBeenCalled()
  })
})

describe('H5: the browser, WGS-84', () => {
  it('reads navigator.geolocation, high accuracy, and says wgs84', async () => {
    const asked = browserGeolocation((success) => success({
      coords: { latitude: 31.2, longitude: 121.6, accuracy: 12.34 }, timestamp: NOW,
    } as GeolocationPosition))
    const checkIn = await locate('h5', () => NOW)
    expect(asked.mock.calls[0][2]).toMatchObject({ enableHighAccuracy: true, maximumAge: 0 })
    expect(checkIn).toMatchObject({ latitude: 31.2, longitude: 121.6, accuracy: 12.3, coordinate_system: 'wgs84' })
    expect(uniMock.getLocation).not.toHaveBeenCalled()
  })

  it('explains a denied permission in the browser’s terms; no settings to open', async () => {
    browserGeolocation((_, failure) => failure({ code: 1, message: 'User denied Geolocation' } as GeolocationPositionError))
    const error = await locate('h5').catch((caught) => caught)
    expect(error.problem).toBe('denied')
    expect(problemMessage('denied', 'h5')).toBe('location.denied.h5')
    expect(t('location.denied.h5')).toMatch(/锁形图标/)
    expect(canOpenSettings('denied', 'h5')).toBe(false)
    browserGeolocation((_, failure) => failure({ code: 3, message: 'Timeout' } as GeolocationPositionError))
    expect((await locate('h5').catch((caught) => caught)).problem).toBe('timeout')
    browserGeolocation((_, failure) => failure({ code: 2, message: 'Unavailable' } as GeolocationPositionError))
    expect((await locate('h5').catch((caught) => caught)).problem).toBe('unavailable')
  })

  it('says that a page without HTTPS gets no location', async () => {
    vi.stubGlobal('isSecureContext', false)
    const asked = browserGeolocation(() => undefined)
    expect((await locate('h5').catch((caught) => caught)).problem).toBe('insecure')
    expect(asked).not.toHaveBeenCalled()
  })
})

describe('the app: the system’s location, WGS-84', () => {
  it('asks uni.getLocation for wgs84; a phone giving no accuracy is taken as rough', async () => {
    uniMock.getLocation.mockImplementation((options) => options.success({ latitude: 22.5, longitude: 113.9 }))
    const checkIn = await locate('app', () => NOW)
    expect(uniMock.getLocation.mock.calls[0][0].type).toBe('wgs84')
    expect(checkIn).toMatchObject({ coordinate_system: 'wgs84', accuracy: 1000 })
    expect(coordinateSystemOf('app')).toBe('wgs84')
    expect(uniProblem('getLocation:fail No permission', 'app')).toBe('denied')
    expect(problemMessage('denied', 'app')).toBe('location.denied.app')
    openSettings('app')
    expect(uniMock.openAppAuthorizeSetting).toHaveBeenCalled()
  })
})

it('has every explanation in both languages', () => {
  for (const key of ['location.denied.h5', 'location.denied.mp-weixin', 'location.denied.app', 'location.system.mp-weixin',
    'location.privacy', 'location.insecure', 'location.unavailable', 'location.timeout']) {
    expect(messages['zh-CN'][key as keyof typeof messages['zh-CN']], key).toBeTruthy()
    expect(messages.en[key as keyof typeof messages['en']], key).toBeTruthy()
  }
})
