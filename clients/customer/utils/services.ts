// The icon and one-line description of each service on the home page (the
// names come from GET /order-types; a type the app does not know gets the
// generic icon and no line)
const KNOWN = ['repair', 'maintenance', 'recycle', 'rental', 'training', 'validation', 'selection', 'installation']

export function serviceIcon(code: string): string {
  return `/static/services/${KNOWN.includes(code) ? code : 'service'}.svg`
}

export function serviceLineKey(code: string): string | null {
  return KNOWN.includes(code) ? `service.${code}` : null
}
