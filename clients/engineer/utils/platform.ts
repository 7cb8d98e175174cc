// Which build this is: uni sets process.env.UNI_PLATFORM at build time (h5,
// mp-weixin, app); tests set it by hand.
declare const process: { env: Record<string, string | undefined> }

export type Platform = 'h5' | 'mp-weixin' | 'app'

export function platform(): Platform {
  let name: string | undefined
  try {
    name = process.env.UNI_PLATFORM
  } catch {
    name = undefined
  }
  if (name === 'mp-weixin') return 'mp-weixin'
  if (name === 'app' || name === 'app-plus') return 'app'
  return 'h5'
}
