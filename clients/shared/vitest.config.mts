import { vitestConfig } from './testing/vitest.mjs'

export default vitestConfig({ setupFiles: ['tests/setup.ts'], include: ['tests/**/*.test.ts'] })
