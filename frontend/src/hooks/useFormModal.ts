// A form dialog's state (components/FormModal.vue shows it): whether it is open, filling the form each time
// it opens, and the submit: validate, run the request with the dialog busy, and show a refusal where it
// belongs — under the field the server names (`param`), otherwise above the form or as a toast. `submit` is
// the dialog's `save` (its `on-before-ok`), so the dialog closes only when it resolves to true.

import type { FormInstance } from '@arco-design/web-vue'
import { ref, watch, type Ref } from 'vue'

import { ApiError } from '@/api/http'
import { notifyError } from '@/hooks/useNotify'

export interface FormModalOptions<M extends object> {
  /** The dialog's `<a-form ref="formRef">`. */
  formRef: Ref<FormInstance | undefined>
  /** The form's model: a server error whose `param` is one of its fields is shown under that field. */
  model: M
  /** The field a 409 without `param` is about (a unique name). */
  conflictField?: keyof M & string
  /**
   * Where an answer of the server not pinned on a field goes: `above` sets `formError` (the dialog shows it
   * above the form, in the server's words); `toast` (the default) raises a toast. Errors without an answer
   * (network, timeout) are always a toast.
   */
  otherErrors?: 'above' | 'toast'
  /** The dialog's `visible` (its `v-model:visible`). Each time it opens, the last submit's errors are forgotten. */
  visible: Ref<boolean>
  /** Sets the form up each time the dialog opens (blank, or the record it edits). */
  fill?: () => void
}

/** What components/FormModal.vue shows of a form dialog. */
export interface FormDialog {
  visible: Ref<boolean>
  busy: Ref<boolean>
}

export function useFormModal<M extends object>(options: FormModalOptions<M>) {
  const { formRef } = options
  const busy = ref(false)
  /** A refusal not pinned on a field, for the dialog to show above the form (`otherErrors: 'above'`). */
  const formError = ref<string | null>(null)

  /** The form field a server error is about, if the form has it. */
  function fieldOf(e: ApiError): string | null {
    const field = e.param ?? (e.status === 409 ? (options.conflictField ?? null) : null)
    return field && field in options.model ? field : null
  }

  function showError(e: unknown): void {
    const field = e instanceof ApiError ? fieldOf(e) : null
    if (e instanceof ApiError && field) {
      formRef.value?.setFields({ [field]: { status: 'error', message: e.message } })
    } else if (options.otherErrors === 'above' && e instanceof ApiError && e.status !== 0) {
      formError.value = e.message
    } else {
      notifyError(e)
    }
  }

  /**
   * Validates the form, then runs `action` with `busy` set. Resolves to true when it succeeded (the dialog
   * may close), false when the form is invalid or the action failed (its error is shown).
   */
  async function submit(action: () => Promise<unknown>): Promise<boolean> {
    formError.value = null
    if (await formRef.value?.validate()) return false
    busy.value = true
    try {
      await action()
      return true
    } catch (e) {
      showError(e)
      return false
    } finally {
      busy.value = false
    }
  }

  /** Forgets the last submit's errors (the dialog opens again). */
  function reset(): void {
    formError.value = null
    formRef.value?.clearValidate()
  }

  watch(options.visible, (open) => {
    if (!open) return
    options.fill?.()
    reset()
  })

  return { visible: options.visible, busy, formError, submit }
}
