// The position of a check-in (打卡), with its accuracy and the coordinate
// system it is in, which travels with it:
// - WeChat: wx.getLocation with type 'gcj02' (GCJ-02, as Chinese maps use),
//   which the manifest declares (requiredPrivateInfos, scope.userLocation);
// - H5: the browser's navigator.geolocation, which gives WGS-84 (GPS);
// - the app: uni.getLocation with type 'wgs84' (the system's location
//   service: no map SDK needed).
// A refusal says how to allow the location on that platform.
import type { Schemas } from '@instrument/shared'
import { platform, type Platform } from '@/utils/platform'
import { shanghaiISO } from '@/utils/time'

export type CoordinateSystem = 'wgs84' | 'gcj02'
export type CheckIn = Schemas['CheckInSubmission']

export type LocationProblem = 'denied' | 'system' | 'privacy' | 'insecure' | 'unavailable' | 'timeout'

export class LocationError extends Error {
  problem: LocationProblem
  constructor(problem: LocationProblem, detail = '') {
    super(detail || problem)
    this.name = 'LocationError'
    this.problem = problem
    Object.setPrototypeOf(this, LocationError.prototype)
  }
}

export function coordinateSystemOf(where: Platform = platform()): CoordinateSystem {
  return where === 'mp-weixin' ? 'gcj02' : 'wgs84'
}

/** The message key explaining a problem on a platform */
export function problemMessage(problem: LocationProblem, where: Platform = platform()): string {
  if (problem === 'denied') return `location.denied.${where}`
  if (problem === 'system' && where === 'mp-weixin') return 'location.system.mp-weixin'
  if (problem === 'system') return `location.denied.${where}`
  return `location.${problem}`
}

/** Whether the platform has a settings page the app can open for it */
export function canOpenSettings(problem: LocationProblem, where: Platform = platform()): boolean {
  return problem === 'denied' && where !== 'h5'
}

/** The settings of the mini-program (WeChat) or of the app (the phone's) */
export function openSettings(where: Platform = platform()): void {
  if (where === 'mp-weixin') uni.openSetting({})
  else if (where === 'app') {
    const open = (uni as { openAppAuthorizeSetting?: (options: object) => void }).openAppAuthorizeSetting
    open?.({})
  }
}

const TIMEOUT_MS = 20000

/** uni.getLocation's errMsg → what the engineer can do about it */
export function uniProblem(errMsg: string, where: Platform): LocationProblem {
  const message = errMsg.toLowerCase()
  if (/privacy/.test(message)) return 'privacy'
  // WeChat itself may not use the location (the phone's settings)
  if (/system permission denied|locationswitchoff|location service/.test(message)) return 'system'
  if (/auth deny|auth denied|authorize|permission|denied|no permission/.test(message)) return 'denied'
  if (/timeout/.test(message)) return 'timeout'
  return where === 'app' && /not ?open|disabled|gps/.test(message) ? 'system' : 'unavailable'
}

function rounded(value: number, digits: number): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

function checkIn(latitude: number, longitude: number, accuracy: number | undefined,
  system: CoordinateSystem, at: number): CheckIn {
  return {
    time: shanghaiISO(at),
    latitude: rounded(latitude, 6),
    longitude: rounded(longitude, 6),
    // Some phones give no accuracy: say "unknown" as a large radius rather
    // than a precise one
    accuracy: rounded(accuracy !== undefined && accuracy !== null && accuracy >= 0 ? accuracy : 1000, 1),
    coordinate_system: system,
  }
}

function browserPosition(now: () => number): Promise<CheckIn> {
  return new Promise((resolve, reject) => {
    if (typeof window !== 'undefined' && window.isSecureContext === false) {
      reject(new LocationError('insecure'))
      return
    }
    const geolocation = typeof navigator !== 'undefined' ? navigator.geolocation : undefined
    if (!geolocation) {
      reject(new LocationError('unavailable'))
      return
    }
    geolocation.getCurrentPosition(
      (position) => resolve(checkIn(position.coords.latitude, position.coords.longitude,
        position.coords.accuracy, 'wgs84', now())),
      (error) => {
        // 1 PERMISSION_DENIED, 2 POSITION_UNAVAILABLE, 3 TIMEOUT
        const problem: LocationProblem = error.code === 1 ? 'denied' : error.code === 3 ? 'timeout' : 'unavailable'
        reject(new LocationError(problem, error.message))
      },
      { enableHighAccuracy: true, timeout: TIMEOUT_MS, maximumAge: 0 },
    )
  })
}

function uniPosition(where: Platform, now: () => number): Promise<CheckIn> {
  const system = coordinateSystemOf(where)
  return new Promise((resolve, reject) => {
    uni.getLocation({
      type: system,
      isHighAccuracy: true,
      highAccuracyExpireTime: 5000,
      success: (result) => resolve(checkIn(result.latitude, result.longitude,
        result.accuracy, system, now())),
      fail: (error) => {
        const errMsg = String(error?.errMsg ?? '')
        reject(new LocationError(uniProblem(errMsg, where), errMsg))
      },
    } as UniApp.GetLocationOptions)
  })
}

/** The position now, as the check-in of a step (time, latitude, longitude,
 * accuracy in metres, coordinate_system); a LocationError when it cannot
 * be had */
export function locate(where: Platform = platform(), now: () => number = Date.now): Promise<CheckIn> {
  return where === 'h5' ? browserPosition(now) : uniPosition(where, now)
}

/** Above this radius (metres) the engineer is told to try again */
export const POOR_ACCURACY = 200
