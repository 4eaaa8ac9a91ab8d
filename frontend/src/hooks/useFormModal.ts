// The submit of a form dialog: validate, run the request with the dialog busy, and show a refusal where it
// belongs — under the field the server names (`param`), otherwise above the form or as a toast. Used as the
// dialog's `on-before-ok`, so the dialog closes only when `submit` resolves to true.

import type { FormInstance } from '@arco-design/web-vue'
import { ref, type Ref } from 'vue'

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

  return { busy, formError, submit, reset }
}
