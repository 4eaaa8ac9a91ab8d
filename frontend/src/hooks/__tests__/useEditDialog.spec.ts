import { describe, expect, it, vi } from 'vitest'

import { useEditDialog } from '../useEditDialog'

describe('useEditDialog', () => {
  it('opens blank to create or on a row to edit, and closes and reloads once saved', () => {
    const reload = vi.fn(async () => {})
    const d = useEditDialog<{ id: string }>(reload)
    expect(d.visible.value).toBe(false)

    d.open(null)
    expect(d.visible.value).toBe(true)
    expect(d.editing.value).toBeNull()

    const row = { id: 'o1' }
    d.open(row)
    expect(d.editing.value).toBe(row)
    expect(reload).not.toHaveBeenCalled()

    d.saved()
    expect(d.visible.value).toBe(false)
    expect(reload).toHaveBeenCalledOnce()
  })
})
