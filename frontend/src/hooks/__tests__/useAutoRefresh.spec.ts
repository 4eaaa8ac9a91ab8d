import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { mount } from '@vue/test-utils'

import { startPolling, useAutoRefresh } from '../useAutoRefresh'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('startPolling', () => {
  it('calls again every interval until stopped', async () => {
    const fn = vi.fn()
    const stop = startPolling(fn, 5000)
    expect(fn).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(5000)
    expect(fn).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(fn).toHaveBeenCalledTimes(3)
    stop()
    await vi.advanceTimersByTimeAsync(20_000)
    expect(fn).toHaveBeenCalledTimes(3)
  })

  it('skips a tick while the previous call is still running', async () => {
    let finish: () => void = () => {}
    const fn = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)))
    const stop = startPolling(fn, 1000)
    await vi.advanceTimersByTimeAsync(3000)
    expect(fn).toHaveBeenCalledTimes(1)
    finish()
    await vi.advanceTimersByTimeAsync(1000)
    expect(fn).toHaveBeenCalledTimes(2)
    stop()
  })

  it('goes on after a failed call, and rests while the page is hidden', async () => {
    let shown = false
    const fn = vi.fn(async () => {
      throw new Error('server down')
    })
    const stop = startPolling(fn, 1000, () => shown)
    await vi.advanceTimersByTimeAsync(3000)
    expect(fn).not.toHaveBeenCalled()
    shown = true
    await vi.advanceTimersByTimeAsync(2000)
    expect(fn).toHaveBeenCalledTimes(2)
    stop()
  })
})

describe('useAutoRefresh', () => {
  it('polls while its component is mounted, and stops when it goes away', async () => {
    const fn = vi.fn()
    const Screen = defineComponent({
      setup() {
        useAutoRefresh(fn, 5000)
        return () => h('div')
      },
    })
    const wrapper = mount(Screen)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(fn).toHaveBeenCalledTimes(2)
    wrapper.unmount()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(fn).toHaveBeenCalledTimes(2)
  })
})
