// Showing outcomes: API errors as their readable message, successes as a short toast.

import { Message, Modal } from '@arco-design/web-vue'

import { errorMessage } from '@/api/http'
import { t } from '@/locale'

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

export interface DangerOptions {
  title: string
  content: string
  okText: string
  action: () => Promise<unknown>
  /** Once the action is done: its success toast. */
  success?: string
  /** Once the action is done: what to read again (the list). */
  reload?: () => unknown
}

/**
 * Asks before a destructive action (deactivate, revoke, delete) and runs it on OK: the dialog stays open,
 * its button busy, until the action is done; then the `success` toast and the `reload`. A failure is a toast
 * and leaves the dialog open.
 */
export function confirmDanger(o: DangerOptions): void {
  Modal.warning({
    title: o.title,
    content: o.content,
    hideCancel: false,
    okText: o.okText,
    cancelText: t('common.cancel'),
    okButtonProps: { status: 'danger' },
    onBeforeOk: async () => {
      try {
        await o.action()
        if (o.success) notifySuccess(o.success)
        void o.reload?.()
        return true
      } catch (e) {
        notifyError(e)
        return false
      }
    },
  })
}
