// Running something again and again while a screen is open (the channels' health every 5 s): never two
// runs at once, nothing while the browser tab is hidden, and stopped when the screen goes away.

import { onBeforeUnmount, onMounted } from 'vue'

/** Whether the page is shown (a hidden tab need not refresh). */
function pageVisible(): boolean {
  return typeof document === 'undefined' || document.visibilityState !== 'hidden'
}

/**
 * Calls `fn` every `intervalMs`, skipping a tick while the previous call is still running or while
 * `visible()` says the page is hidden. `fn` reports its own failures; a rejection here is ignored so the
 * timer goes on. Returns what stops it.
 */
export function startPolling(
  fn: () => unknown,
  intervalMs: number,
  visible: () => boolean = pageVisible,
): () => void {
  let running = false
  const timer = setInterval(() => {
    if (running || !visible()) return
    running = true
    void Promise.resolve()
      .then(fn)
      .catch(() => {})
      .finally(() => {
        running = false
      })
  }, intervalMs)
  return () => clearInterval(timer)
}

/** `startPolling` for as long as the calling component is mounted. */
export function useAutoRefresh(fn: () => unknown, intervalMs: number): void {
  let stop: (() => void) | null = null
  onMounted(() => {
    stop = startPolling(fn, intervalMs)
  })
  onBeforeUnmount(() => stop?.())
}
