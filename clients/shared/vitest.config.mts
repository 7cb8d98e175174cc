import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  plugins: [vue()],
  test: {
    environment: 'happy-dom',
    setupFiles: ['tests/setup.ts'],
    include: ['tests/**/*.test.ts'],
    // wot-design-uni ships .vue sources: compile them like ours
    server: { deps: { inline: ['wot-design-uni'] } },
  },
})
