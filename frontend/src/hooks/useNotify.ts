// Showing outcomes: API errors as their readable message, successes as a short toast.

import { Message } from '@arco-design/web-vue'

import { errorMessage } from '@/api/http'

export function notifyError(e: unknown): void {
  Message.error({ content: errorMessage(e), duration: 5000 })
}

export function notifySuccess(text: string): void {
  Message.success(text)
}
