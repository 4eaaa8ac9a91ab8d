import type { FormInstance } from '@arco-design/web-vue'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick, ref } from 'vue'

import { ApiError } from '@/api/http'
import { notifyError } from '@/hooks/useNotify'

import { useFormModal, type FormModalOptions } from '../useFormModal'

vi.mock('@/hooks/useNotify', () => ({ notifyError: vi.fn() }))

/** An Arco form as the composable uses it: `validate` answers `errors` (undefined = valid). */
function fakeForm(errors?: Record<string, unknown>) {
  return {
    validate: vi.fn(async () => errors),
    setFields: vi.fn(),
    clearValidate: vi.fn(),
  }
}

type Model = { name: string; limit: number | undefined }

function setup(options: Partial<FormModalOptions<Model>> = {}, errors?: Record<string, unknown>) {
  const form = fakeForm(errors)
  const formRef = ref(form as unknown as FormInstance)
  const model: Model = { name: '', limit: undefined }
  const modal = useFormModal({ formRef, model, visible: ref(false), ...options })
  return { form, model, modal }
}

beforeEach(() => {
  vi.mocked(notifyError).mockClear()
})

describe('useFormModal', () => {
  it('is busy while the action runs and resolves true when it succeeds', async () => {
    const { modal } = setup()
    let finish: () => void = () => {}
    const action = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)))

    const done = modal.submit(action)
    await vi.waitFor(() => expect(action).toHaveBeenCalledOnce())
    expect(modal.busy.value).toBe(true)
    finish()

    await expect(done).resolves.toBe(true)
    expect(modal.busy.value).toBe(false)
  })

  it('runs nothing when the form is invalid', async () => {
    const { modal } = setup({}, { name: { message: 'required' } })
    const action = vi.fn(async () => {})

    await expect(modal.submit(action)).resolves.toBe(false)
    expect(action).not.toHaveBeenCalled()
    expect(modal.busy.value).toBe(false)
  })

  it('shows an error the server pins on a form field under that field', async () => {
    const { form, modal } = setup()

    const ok = await modal.submit(async () => {
      throw new ApiError('name is taken', 400, 'invalid_request', 'invalid_request_error', 'name')
    })

    expect(ok).toBe(false)
    expect(modal.busy.value).toBe(false)
    expect(form.setFields).toHaveBeenCalledWith({ name: { status: 'error', message: 'name is taken' } })
    expect(notifyError).not.toHaveBeenCalled()
  })

  it('pins a 409 without a field on the conflict field', async () => {
    const { form, modal } = setup({ conflictField: 'name' })

    await modal.submit(async () => {
      throw new ApiError('already exists', 409, 'conflict')
    })

    expect(form.setFields).toHaveBeenCalledWith({ name: { status: 'error', message: 'already exists' } })
  })

  it('raises a toast for an error on a field the form does not have', async () => {
    const { form, modal } = setup()
    const e = new ApiError('bad organization', 400, null, null, 'organization_id')

    await modal.submit(async () => {
      throw e
    })

    expect(form.setFields).not.toHaveBeenCalled()
    expect(notifyError).toHaveBeenCalledWith(e)
    expect(modal.formError.value).toBeNull()
  })

  it('can show the server’s other refusals above the form, but never a network failure', async () => {
    const { modal } = setup({ otherErrors: 'above' })

    await modal.submit(async () => {
      throw new ApiError('your key may not grant admin', 403, 'permission_denied')
    })
    expect(modal.formError.value).toBe('your key may not grant admin')
    expect(notifyError).not.toHaveBeenCalled()

    const offline = new ApiError('network error', 0, 'network_error')
    await modal.submit(async () => {
      throw offline
    })
    expect(modal.formError.value).toBeNull()
    expect(notifyError).toHaveBeenCalledWith(offline)
  })

  it('forgets the last errors when the dialog opens again', async () => {
    const { form, modal } = setup({ otherErrors: 'above' })
    modal.visible.value = true
    await nextTick()
    await modal.submit(async () => {
      throw new ApiError('refused', 403)
    })
    modal.visible.value = false
    await nextTick()
    expect(modal.formError.value).toBe('refused')
    form.clearValidate.mockClear()

    modal.visible.value = true
    await nextTick()

    expect(modal.formError.value).toBeNull()
    expect(form.clearValidate).toHaveBeenCalledOnce()
  })

  it('fills the form each time the dialog opens, and only then', async () => {
    const visible = ref(false)
    let n = 0
    const { model } = setup({
      visible,
      fill: () => {
        n += 1
        model.name = `edit ${n}`
      },
    })
    await nextTick()
    expect(model.name).toBe('')

    visible.value = true
    await nextTick()
    expect(model.name).toBe('edit 1')

    model.name = 'typed'
    visible.value = false
    await nextTick()
    expect(model.name).toBe('typed')

    visible.value = true
    await nextTick()
    expect(model.name).toBe('edit 2')
  })
})
