/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

interface ImportMetaEnv {
  /** The API server's origin for the mini-program and the app (H5 uses its own origin) */
  readonly VITE_API_ORIGIN?: string
}
