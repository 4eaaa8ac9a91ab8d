import { Message, Modal } from '@arco-design/web-vue'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { ApiError } from '@/api/http'
import { setLocale } from '@/locale'

import { confirmDanger } from '../useNotify'

vi.mock('@arco-design/web-vue', () => ({
  Modal: { warning: vi.fn() },
  Message: { success: vi.fn(), error: vi.fn(), clear: vi.fn() },
}))

setLocale('en-US')

/** Opens the confirmation and answers its OK button's `onBeforeOk`. */
function confirmAndOk(action: () => Promise<unknown>, reload = vi.fn()) {
  confirmDanger({ title: 'Delete “a”?', content: 'It cannot be undone.', okText: 'Delete', action, success: 'Deleted “a”', reload })
  const config = vi.mocked(Modal.warning).mock.calls[0]?.[0]
  return { config, reload, ok: (config?.onBeforeOk as () => Promise<boolean>)() }
}

beforeEach(() => {
  vi.mocked(Modal.warning).mockClear()
  vi.mocked(Message.success).mockClear()
  vi.mocked(Message.error).mockClear()
})

describe('confirmDanger', () => {
  it('asks with a red OK and Cancel, and runs nothing until OK', () => {
    const action = vi.fn(async () => {})
    confirmDanger({ title: 'Revoke?', content: 'Sure?', okText: 'Revoke', action })
    const config = vi.mocked(Modal.warning).mock.calls[0]?.[0]
    expect(config).toMatchObject({ title: 'Revoke?', content: 'Sure?', okText: 'Revoke', cancelText: 'Cancel', hideCancel: false })
    expect(config?.okButtonProps).toEqual({ status: 'danger' })
    expect(action).not.toHaveBeenCalled()
  })

  it('on OK runs the action, then shows the success toast and reloads, and closes', async () => {
    const action = vi.fn(async () => ({ message: 'ok' }))
    const { ok, reload } = confirmAndOk(action)
    await expect(ok).resolves.toBe(true)
    expect(action).toHaveBeenCalledOnce()
    expect(Message.success).toHaveBeenCalledWith('Deleted “a”')
    expect(reload).toHaveBeenCalledOnce()
  })

  it('keeps the dialog open on a failure, with the error as a toast and nothing reloaded', async () => {
    const { ok, reload } = confirmAndOk(async () => {
      throw new ApiError('not allowed', 403)
    })
    await expect(ok).resolves.toBe(false)
    expect(Message.error).toHaveBeenCalledWith(expect.objectContaining({ content: 'not allowed' }))
    expect(Message.success).not.toHaveBeenCalled()
    expect(reload).not.toHaveBeenCalled()
  })
})
