// What the engineer typed in a step's form, kept in storage until it is
// submitted: leaving the page, a reload or a dead battery loses nothing.
// Photos and documents are kept as their outbox upload ids (the outbox
// keeps their files), then as the server's file ids once uploaded, with
// their names.
import { storage } from '@instrument/shared'

export interface FileMeta {
  name: string
  kind: 'photo' | 'file'
}

export interface StepDraft {
  values: Record<string, unknown>
  /** Server file id → what it is, for the files already uploaded */
  files: Record<number, FileMeta>
}

export function draftKey(taskId: number, action: string): string {
  return `draft:${taskId}:${action}`
}

export function loadDraft(taskId: number, action: string): StepDraft | null {
  const draft = storage.get<StepDraft>(draftKey(taskId, action))
  return draft && typeof draft.values === 'object' ? { values: draft.values, files: draft.files ?? {} } : null
}

export function saveDraft(taskId: number, action: string, draft: StepDraft): void {
  storage.set(draftKey(taskId, action), draft)
}

export function clearDraft(taskId: number, action: string): void {
  storage.remove(draftKey(taskId, action))
}

/** Forget every draft (logout: they may hold what the customer said) */
export function clearDrafts(): void {
  try {
    for (const key of uni.getStorageInfoSync().keys) {
      if (key.startsWith('draft:')) uni.removeStorageSync(key)
    }
  } catch {
    // No storage listing on this platform: the drafts stay until replaced
  }
}
