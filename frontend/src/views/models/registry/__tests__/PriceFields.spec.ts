import { Form, Row } from '@arco-design/web-vue'
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { h, reactive } from 'vue'

import { setLocale } from '@/locale'

import PriceFields from '../PriceFields.vue'

setLocale('en-US')

describe('PriceFields', () => {
  it('edits both prices of the form, labelled, in dollars, named for the tests', async () => {
    const form = reactive({ input_price_per_mtok: 2.5 as number | undefined, output_price_per_mtok: undefined as number | undefined })
    const w = mount({
      render: () =>
        h(Form, { model: form, layout: 'vertical' }, () =>
          h(Row, { gutter: 16 }, () => h(PriceFields, { model: form, testIds: ['in-price', 'out-price'] })),
        ),
    })
    const labels = w.findAll('.arco-form-item-label').map((l) => l.text())
    expect(labels).toEqual([expect.stringContaining('Input'), expect.stringContaining('Output')])
    expect(w.findAll('.arco-col-12')).toHaveLength(2)
    expect(w.get('[data-testid="in-price"]').text()).toContain('$')
    const input = w.get('[data-testid="in-price"] input')
    expect((input.element as HTMLInputElement).value).toBe('2.5000')

    const output = w.get('[data-testid="out-price"] input')
    await output.setValue('0')
    await output.trigger('blur')
    expect(form.output_price_per_mtok).toBe(0)
  })
})
