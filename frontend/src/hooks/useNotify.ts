// Showing outcomes: API errors as their readable message, successes as a short toast.

import { Message } from '@arco-design/web-vue'

import { errorMessage } from '@/api/http'

export function notifyError(e: unknown): void {
  Message.error({ content: errorMessage(e), duration: 5000 })
}

export function notifySuccess(text: string): void {
  Message.success(text)
}

/**
 * Dialogs call this as they open: a toast left over from the previous action ("Organization … created")
 * would otherwise sit on top of a tall dialog's title. Toasts raised while the dialog is open still show.
 */
export function dismissToasts(): void {
  Message.clear()
}
