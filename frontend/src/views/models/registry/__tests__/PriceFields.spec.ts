import { Form, Row } from '@arco-design/web-vue'
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { h, reactive } from 'vue'

import { setLocale } from '@/locale'

import PriceFields from '../PriceFields.vue'

setLocale('en-US')

const blank = () =>
  reactive({
    input_price_per_mtok: 2.5 as number | undefined,
    output_price_per_mtok: undefined as number | undefined,
    cached_input_price_per_mtok: undefined as number | undefined,
    cache_write_price_per_mtok: undefined as number | undefined,
  })

function mountFields(form: ReturnType<typeof blank>) {
  return mount({
    render: () =>
      h(Form, { model: form, layout: 'vertical' }, () =>
        h(Row, { gutter: 16 }, () =>
          h(PriceFields, { model: form, testIds: ['in-price', 'out-price', 'cached-price', 'write-price'] }),
        ),
      ),
  })
}

describe('PriceFields', () => {
  it('edits both prices of the form, labelled, in dollars, named for the tests', async () => {
    const form = blank()
    const w = mountFields(form)
    const labels = w.findAll('.arco-form-item-label').map((l) => l.text())
    expect(labels).toEqual([
      expect.stringContaining('Input'),
      expect.stringContaining('Output'),
      expect.stringContaining('Cached input'),
      expect.stringContaining('Cache write'),
    ])
    expect(w.findAll('.arco-col-12')).toHaveLength(4)
    expect(w.get('[data-testid="in-price"]').text()).toContain('$')
    const input = w.get('[data-testid="in-price"] input')
    expect((input.element as HTMLInputElement).value).toBe('2.5000')

    const output = w.get('[data-testid="out-price"] input')
    await output.setValue('0')
    await output.trigger('blur')
    expect(form.output_price_per_mtok).toBe(0)
  })

  it('leaves the cache prices empty as the provider default, and takes one typed in', async () => {
    const form = blank()
    const w = mountFields(form)
    const cached = w.get('[data-testid="cached-price"] input')
    expect((cached.element as HTMLInputElement).placeholder).toBe('provider default')
    expect((w.get('[data-testid="in-price"] input').element as HTMLInputElement).placeholder).toBe('unknown')
    expect(w.text()).toContain('Anthropic reads 0.1×, writes 1.25×')
    await cached.setValue('0.3')
    await cached.trigger('blur')
    expect(form.cached_input_price_per_mtok).toBe(0.3)
    expect(form.cache_write_price_per_mtok).toBeUndefined()
  })
})
