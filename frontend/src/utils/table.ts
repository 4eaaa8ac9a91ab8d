// Shared sizing of the list tables: they fill their card and fit a 1280 px laptop screen; only below
// `minWidth` (a narrow window) do they scroll sideways, and then with a scrollbar that is always drawn
// (Arco's default one appears only on hover, so the hidden columns went unnoticed).

import type { ScrollbarProps } from '@arco-design/web-vue'

export function fitScroll(minWidth: number): { x: string; minWidth: number } {
  return { x: '100%', minWidth }
}

export const VISIBLE_SCROLLBAR: ScrollbarProps = { type: 'track', outerClass: undefined, outerStyle: undefined }
