// Choosing files on the phone. Photos: camera or album with
// uni.chooseMedia (uni.chooseImage where it is missing: H5). Documents
// (Word, Excel, PDF): wx.chooseMessageFile on WeChat (from a chat), a file
// picker on H5 (uni.chooseFile). A cancel gives no file, not an error.
import { isWeChat } from '@instrument/shared'
import type { PickedFile } from './useImageCompression'

declare const wx: {
  chooseMessageFile(options: {
    count: number
    type: 'file' | 'image' | 'all'
    extension?: string[]
    success(res: { tempFiles: Array<{ path: string; size: number; name: string; type: string }> }): void
    fail(err: { errMsg: string }): void
  }): void
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path
}

function cancelled(err: unknown): boolean {
  const message = typeof err === 'string' ? err : (err as { errMsg?: string })?.errMsg ?? ''
  return /cancel/i.test(message)
}

function settle<T>(run: (resolve: (files: T[]) => void, reject: (err: unknown) => void) => void): Promise<T[]> {
  return new Promise((resolve, reject) => {
    run(resolve, (err) => (cancelled(err) ? resolve([]) : reject(err)))
  })
}

/** The files of chooseImage and chooseFile (File objects with a path on H5) */
function pickedFiles(tempFiles: unknown): PickedFile[] {
  const files = (Array.isArray(tempFiles) ? tempFiles : [tempFiles]) as Array<
    { path: string; size: number; name?: string; type?: string }>
  return files.map((file) => ({
    path: file.path,
    name: file.name ?? baseName(file.path),
    size: file.size,
    type: file.type,
  }))
}

type UniWithMedia = typeof uni & { chooseMedia?: (options: Record<string, unknown>) => void }

export function pickPhotos(count: number): Promise<PickedFile[]> {
  const chooseMedia = (uni as UniWithMedia).chooseMedia
  if (typeof chooseMedia === 'function') {
    return settle((resolve, reject) => chooseMedia({
      count,
      mediaType: ['image'],
      sourceType: ['album', 'camera'],
      sizeType: ['compressed'],
      success: (res: { tempFiles: Array<{ tempFilePath: string; size: number; width?: number; height?: number }> }) =>
        resolve(res.tempFiles.map((file) => ({
          path: file.tempFilePath,
          name: baseName(file.tempFilePath),
          size: file.size,
          width: file.width,
          height: file.height,
        }))),
      fail: reject,
    }))
  }
  return settle((resolve, reject) => uni.chooseImage({
    count,
    sourceType: ['album', 'camera'],
    sizeType: ['compressed'],
    success: (res) => resolve(pickedFiles(res.tempFiles)),
    fail: reject,
  }))
}

export function pickDocuments(count: number, extensions: string[]): Promise<PickedFile[]> {
  if (isWeChat()) {
    return settle((resolve, reject) => wx.chooseMessageFile({
      count,
      type: 'file',
      extension: extensions,
      success: (res) => resolve(res.tempFiles.map((file) => ({
        path: file.path, name: file.name, size: file.size,
      }))),
      fail: reject,
    }))
  }
  return settle((resolve, reject) => uni.chooseFile({
    count,
    type: 'all',
    extension: extensions.map((extension) => '.' + extension),
    success: (res) => resolve(pickedFiles(res.tempFiles)),
    fail: reject,
  }))
}
