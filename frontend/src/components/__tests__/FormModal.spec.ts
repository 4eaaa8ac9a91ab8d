import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { h, ref } from 'vue'

import type { FormDialog } from '@/hooks/useFormModal'
import { setLocale } from '@/locale'

import FormModal from '../FormModal.vue'

setLocale('en-US')

function render(save: () => Promise<boolean>, props: Record<string, unknown> = {}) {
  const modal: FormDialog = { visible: ref(true), busy: ref(false) }
  const w = mount(FormModal, {
    props: { modal, title: 'New thing', save, ...props },
    attrs: { width: '480px' },
    slots: { default: () => h('p', { class: 'content' }, 'the form') },
    attachTo: document.body,
  })
  return { w, modal }
}

/** The dialog is teleported to the body. */
const dialog = () => document.body.querySelector('.arco-modal')
const button = (text: string) =>
  [...document.body.querySelectorAll<HTMLButtonElement>('.arco-modal-footer button')].find((b) => b.textContent?.trim() === text)

afterEach(() => {
  document.body.innerHTML = ''
})

describe('FormModal', () => {
  it('shows the title, the form and Cancel / Save; other attributes reach the dialog', async () => {
    const { w } = render(async () => true)
    await flushPromises()
    expect(dialog()?.querySelector('.arco-modal-title')?.textContent).toContain('New thing')
    expect(dialog()?.querySelector('.content')?.textContent).toBe('the form')
    expect(button('Cancel')).toBeDefined()
    expect(button('Save')).toBeDefined()
    expect((dialog() as HTMLElement).style.width).toBe('480px')
    w.unmount()
  })

  it('names OK as told', async () => {
    const { w } = render(async () => true, { okText: 'Create' })
    await flushPromises()
    expect(button('Create')).toBeDefined()
    expect(button('Save')).toBeUndefined()
    w.unmount()
  })

  it('closes on OK only when save resolves to true', async () => {
    const save = vi.fn(async () => false)
    const { w, modal } = render(save)
    await flushPromises()

    button('Save')?.click()
    await flushPromises()
    expect(save).toHaveBeenCalledOnce()
    expect(modal.visible.value).toBe(true)

    save.mockResolvedValue(true)
    button('Save')?.click()
    await flushPromises()
    expect(save).toHaveBeenCalledTimes(2)
    expect(modal.visible.value).toBe(false)
    w.unmount()
  })

  it('closes on Cancel without saving, and shows OK loading while busy', async () => {
    const save = vi.fn(async () => true)
    const { w, modal } = render(save)
    await flushPromises()

    modal.busy.value = true
    await flushPromises()
    expect(button('Save')?.classList).toContain('arco-btn-loading')

    button('Cancel')?.click()
    await flushPromises()
    expect(save).not.toHaveBeenCalled()
    expect(modal.visible.value).toBe(false)
    w.unmount()
  })
})
