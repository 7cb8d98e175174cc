// One tile of UploadTiles (components/UploadTiles.vue): a file of a form's
// photos-or-documents field as the app's upload sees it. Each app maps its
// own entries (the customer's direct uploads, the engineer's outbox items)
// to these.
export interface UploadTile {
  key: string | number
  name: string
  kind: 'photo' | 'document'
  /** The picture of a photo ('' shows the document look) */
  thumbnail: string
  /** The app's state, the tile's class is-<state> */
  state: string
  /** Covered while it is on its way: the text, a spinner, a bar (progress) */
  busy: boolean
  spinner?: boolean
  /** 0 to 100: a bar under the text */
  progress?: number | null
  /** Refused or failed: red, with `text` */
  failed?: boolean
  /** Failed, and the app can send it again (a retry button) */
  retry?: boolean
  /** On the server: a check mark */
  done?: boolean
  /** The state's text on the tile */
  text: string
  /** May be removed now (not while it is being compressed, say) */
  removable: boolean
  /** Why it failed, listed under the tiles ('' none) */
  error?: string
}
