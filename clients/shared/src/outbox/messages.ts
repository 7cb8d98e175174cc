// The texts of the refusals the phone itself makes (the server's come in
// its answers). An app may reword them in its own messages (same keys).
import { currentI18n, interpolate, type Vars } from '../i18n'

export const outboxMessages = {
  'zh-CN': {
    'outbox.file_missing': '照片或文件已不在手机上，无法发送，请重新选择',
    'outbox.upload_missing': '此步骤的一张照片或一个文件已被删除，请检查后重新提交',
    'outbox.upload_refused': '照片或文件“{name}”未被接受：{reason}',
  },
  en: {
    'outbox.file_missing': 'The photo or file is no longer on the phone and cannot be sent: choose it again',
    'outbox.upload_missing': 'A photo or file of this step was removed: check the step and submit it again',
    'outbox.upload_refused': 'The photo or file “{name}” was refused: {reason}',
  },
}

export type OutboxMessageKey = keyof (typeof outboxMessages)['en']

/** The app's text of the key if it has one, else the outbox's own */
export function outboxText(key: OutboxMessageKey, vars?: Vars): string {
  const i18n = currentI18n()
  const text = i18n.t(key, vars)
  if (text !== key) return text
  const table = i18n.locale === 'en' ? outboxMessages.en : outboxMessages['zh-CN']
  return interpolate(table[key], vars)
}
