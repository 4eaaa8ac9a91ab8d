// The create / edit dialog of a list screen: opened blank (create) or on a row (edit); once the dialog
// saves, it closes and the list is read again.

import { ref, shallowRef } from 'vue'

export function useEditDialog<T>(reload: () => unknown) {
  const visible = ref(false)
  /** The row the dialog edits; `null`: it creates one. */
  const editing = shallowRef<T | null>(null)

  function open(row: T | null): void {
    editing.value = row
    visible.value = true
  }

  /** The dialog saved: close it and read the list again. */
  function saved(): void {
    visible.value = false
    void reload()
  }

  return { visible, editing, open, saved }
}
