// The four limits as the organization and key forms edit them (components/LimitFields.vue): an empty
// input is `undefined`, which the API spells `null` (unlimited).

import type { Limits } from '@/api/types'
import { LIMIT_FIELDS, type LimitField } from '@/utils/keyCeiling'

/** The limits as a form edits them: `undefined` is an empty input (unlimited). */
export type LimitForm = { [K in LimitField]: number | undefined }

/** The limits as the API takes them: `null` is unlimited. */
export type LimitValues = { [K in LimitField]: number | null }

/** A record's limits as its form starts with them (no limit: an empty input); `{}` for a blank form. */
export function limitsToForm(record: Limits): LimitForm {
  return Object.fromEntries(LIMIT_FIELDS.map((f) => [f, record[f] ?? undefined])) as LimitForm
}

/** A form's limits as the API takes them (an empty input: `null`, unlimited). */
export function limitsFromForm(form: LimitForm): LimitValues {
  return Object.fromEntries(LIMIT_FIELDS.map((f) => [f, form[f] ?? null])) as LimitValues
}
