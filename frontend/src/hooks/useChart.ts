// A chart bound to an element: created when the element mounts, given the option whenever it changes,
// resized with its container (ResizeObserver), disposed on unmount.

import { onBeforeUnmount, onMounted, shallowRef, watch, type Ref } from 'vue'

import { echarts, type ChartOption, type ECharts } from '@/components/chart/echarts'

export interface UseChartOptions {
  /** Wait this long after the last size change before resizing (ms). */
  resizeDelay?: number
}

export function useChart(
  el: Ref<HTMLElement | null | undefined>,
  option: Ref<ChartOption>,
  opts: UseChartOptions = {},
) {
  const chart = shallowRef<ECharts | null>(null)
  let observer: ResizeObserver | null = null
  let timer: ReturnType<typeof setTimeout> | undefined

  function resize(): void {
    clearTimeout(timer)
    timer = setTimeout(() => chart.value?.resize(), opts.resizeDelay ?? 50)
  }

  onMounted(() => {
    if (!el.value) return
    chart.value = echarts.init(el.value)
    chart.value.setOption(option.value, true)
    if (typeof ResizeObserver !== 'undefined') {
      observer = new ResizeObserver(resize)
      observer.observe(el.value)
    }
    window.addEventListener('resize', resize)
  })

  watch(option, (o) => chart.value?.setOption(o, true), { deep: true })

  onBeforeUnmount(() => {
    clearTimeout(timer)
    observer?.disconnect()
    window.removeEventListener('resize', resize)
    chart.value?.dispose()
    chart.value = null
  })

  return { chart, resize }
}
