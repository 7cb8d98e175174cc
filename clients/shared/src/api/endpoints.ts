// The API's operations as typed calls, over a Client. Types are the
// document's (types.ts, generated): schemas for bodies and answers,
// operations for query parameters.
import type { Client, Schemas, UploadOptions } from './client'
import type { operations } from './types'

/** The query parameters of an operation */
export type QueryOf<Name extends keyof operations> =
  NonNullable<operations[Name]['parameters']['query']>

export type OrderQuery = QueryOf<'get_orders'>
export type InboxQuery = QueryOf<'get_engineer_inbox'>
export type TaskQuery = QueryOf<'get_engineer_tasks'>
export type NotificationQuery = QueryOf<'get_engineer_notifications'>

/** A file to upload: a local path (chooseImage, chooseMessageFile...) and its name */
export type LocalFile = { filePath: string; name?: string }

/** The body of an action (progress.actions[]): its fields by name */
export type ActionBody = Partial<Omit<Schemas['StepSubmission'], 'action'>>
  & Schemas['Answer'] & Schemas['Rating'] & Record<string, unknown>

export function createApi(client: Client) {
  return {
    client,

    // Start, login and profile
    config: () => client.get<Schemas['ClientConfig']>('/config'),
    orderTypes: () => client.get<Schemas['OrderTypeList']>('/order-types'),
    wechatLogin: (code: string) =>
      client.post<Schemas['CustomerSession']>('/auth/wechat',
        { code } satisfies Schemas['WeChatLogin']),
    devCode: (phone: string) =>
      client.post<void>('/auth/dev/code', { phone } satisfies Schemas['PhoneCodeRequest']),
    devLogin: (phone: string, code: string) =>
      client.post<Schemas['CustomerSession']>('/auth/dev/login',
        { phone, code } satisfies Schemas['PhoneLogin']),
    engineerLogin: (login: string, password: string, deviceName?: string) => {
      const body: Schemas['EngineerLogin'] = { login, password }
      if (deviceName) body.device_name = deviceName
      return client.post<Schemas['EngineerSession']>('/auth/login', body)
    },
    logout: () => client.post<void>('/auth/logout'),
    me: () => client.get<Schemas['Profile']>('/me'),
    updateMe: (contact: Schemas['ProfileUpdate']['contact']) =>
      client.put<Schemas['Profile']>('/me', { contact } satisfies Schemas['ProfileUpdate']),

    // Customer: files and orders
    uploadFile: (file: LocalFile, options?: UploadOptions) =>
      client.upload('/files', file, options),
    /** POST /orders requires its Idempotency-Key: make it once per order
     * (newIdempotencyKey) and send it again on every retry */
    submitOrder: (body: Schemas['OrderSubmission'], key: string) =>
      client.post<Schemas['OrderDetail']>('/orders', body, { idempotencyKey: key }),
    orders: (query: OrderQuery = {}) => client.get<Schemas['OrderPage']>('/orders', query),
    order: (id: number) => client.get<Schemas['OrderDetail']>(`/orders/${id}`),

    /** Perform an action of progress.actions: POST to its request.path with
     * the values of its fields (an engineer's step carries `action`) */
    perform: (action: Schemas['Action'], body: ActionBody = {}, key?: string) => {
      const payload = action.request.path.endsWith('/steps')
        ? { action: action.action, ...body }
        : body
      return client.post<Schemas['OrderDetail']>(action.request.path, payload,
        { idempotencyKey: key })
    },

    // Engineer: offers, tasks, files of a task
    inbox: (query: InboxQuery = {}) =>
      client.get<Schemas['InboxPage']>('/engineer/inbox', query),
    accept: (id: number, key?: string) =>
      client.post<Schemas['OrderDetail']>(`/engineer/inbox/${id}/accept`, undefined,
        { idempotencyKey: key }),
    decline: (id: number, reason: string, key?: string) =>
      client.post<void>(`/engineer/inbox/${id}/decline`,
        { reason } satisfies Schemas['Reason'], { idempotencyKey: key }),
    tasks: (query: TaskQuery = {}) =>
      client.get<Schemas['OrderPage']>('/engineer/tasks', query),
    task: (id: number) => client.get<Schemas['OrderDetail']>(`/engineer/tasks/${id}`),
    uploadTaskFile: (id: number, file: LocalFile, options?: UploadOptions) =>
      client.upload(`/engineer/tasks/${id}/files`, file, options),

    // Engineer: notifications
    notifications: (query: NotificationQuery = {}) =>
      client.get<Schemas['NotificationPage']>('/engineer/notifications', query),
    unreadCount: () =>
      client.get<Schemas['UnreadCount']>('/engineer/notifications/unread-count'),
    markRead: (id: number) =>
      client.post<Schemas['UnreadCount']>(`/engineer/notifications/${id}/read`),
    /** Long poll: the notifications after `after`, or none once `timeout`
     * seconds (0 to 60) passed */
    waitNotifications: (after: number, timeout: number) =>
      client.get<Schemas['NotificationWait']>('/engineer/notifications/wait',
        { after, timeout }, { timeout: (timeout + 15) * 1000 }),
  }
}

export type Api = ReturnType<typeof createApi>
