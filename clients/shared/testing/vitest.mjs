// The one vitest configuration of the workspace: Vue single-file components,
// happy-dom, wot-design-uni compiled like our sources (it ships TypeScript
// and .vue files). Each package's vitest.config.mts calls one of these.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

/** @param {{ alias?: string, setupFiles: string[], include: string[] }} options */
export function vitestConfig({ alias, setupFiles, include }) {
  return defineConfig({
    plugins: [vue()],
    ...(alias ? { resolve: { alias: { '@': alias } } } : {}),
    test: {
      environment: 'happy-dom',
      setupFiles,
      include,
      server: { deps: { inline: ['wot-design-uni'] } },
    },
  })
}

/** An app's: `@` is the app's folder (where its config is), the setup file
 * tests/unit/setup.ts, the tests tests/unit/**\/*.test.ts
 * @param {string} configUrl import.meta.url of the app's vitest.config.mts */
export function appVitestConfig(configUrl) {
  return vitestConfig({
    alias: fileURLToPath(new URL('.', configUrl)),
    setupFiles: ['tests/unit/setup.ts'],
    include: ['tests/unit/**/*.test.ts'],
  })
}
