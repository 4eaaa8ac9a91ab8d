import { FormItem } from '@arco-design/web-vue'
import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { h, reactive } from 'vue'

import { setLocale } from '@/locale'

import LoginForm from '../LoginForm.vue'

setLocale('en-US')

function render(loading = false) {
  const model = reactive({ api_key: '' })
  const w = mount(LoginForm, {
    props: { model, rules: { api_key: [{ required: true, message: 'Enter a key' }] }, loading, submitTestid: 'key-submit' },
    slots: { default: () => h(FormItem, { field: 'api_key', label: 'API key' }, () => h('input', { class: 'field' })) },
  })
  return { w, model }
}

describe('LoginForm', () => {
  it('shows its fields, then the submit button', () => {
    const { w } = render(true)
    expect(w.find('form .field').exists()).toBe(true)
    const button = w.get('[data-testid="key-submit"]')
    expect(button.text()).toBe('Sign in')
    expect(button.attributes('type')).toBe('submit')
    expect(button.classes()).toContain('arco-btn-loading')
  })

  it('emits submit only when the fields are valid', async () => {
    const { w, model } = render()
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.emitted('submit')).toBeUndefined()

    model.api_key = 'gaia_x'
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.emitted('submit')).toHaveLength(1)
  })
})
