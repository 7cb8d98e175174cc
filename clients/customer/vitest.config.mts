// The workspace's one vitest configuration (@instrument/shared/testing/vitest.mjs)
import { appVitestConfig } from '@instrument/shared/testing/vitest.mjs'

export default appVitestConfig(import.meta.url)
