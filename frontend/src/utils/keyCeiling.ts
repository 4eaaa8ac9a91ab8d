// What the signed-in caller may give an API key, so the key form can lock a control (and say why) before
// the server answers 403. It mirrors the server's rule (gaia-orgs `grants.rs`, "limits bind the key that
// carries them"):
//
// - a key never loosens itself — editing its own record (admin keys too) it may only lower or set a
//   limit, drop a permission, set or bring forward its expiry;
// - a non-admin key gives at most what it has — each permission one of its own, each limit no looser
//   than its own (unlimited only where its own is), the expiry no later than its own; a field left empty
//   on a new key is inherited from it;
// - admins (other admin keys, the bootstrap key, admin users) have no ceiling.
//
// Only fields a change *sets* are checked by the server, so a key may keep a value looser than the
// ceiling when it is left as it is (renaming a looser sibling is fine). The server stays the authority:
// this is a preview of its answer. Pure functions; the caller's own key is fetched by the page.

import type { ApiKeyListed } from '@/api/apiKeys'
import type { Limits, Permission } from '@/api/types'
import { currentLocale, t } from '@/locale'
import { formatDateTime, formatInteger, formatMoney } from '@/utils/format'

export type LimitField = keyof Limits
export const LIMIT_FIELDS: readonly LimitField[] = [
  'monthly_requests_limit',
  'monthly_tokens_limit',
  'monthly_cost_limit',
  'rate_limit_rpm',
]
export const PERMISSIONS: readonly Permission[] = ['read', 'write', 'admin']

/** Who is signed in: the auth store's principal fits. */
export interface CeilingCaller {
  /** `user`, `key` or `bootstrap`. */
  kind: string
  keyId: string | null
  permissions: readonly string[]
}

/** The fields of a key a ceiling compares: the caller's own key and the key being edited. */
export type KeyGrant = Pick<ApiKeyListed, 'id' | 'permissions' | 'expires_at' | LimitField>

/** Why a ceiling applies: the key edits itself, or a non-admin key's own values cap another key. */
export type Whose = 'self' | 'caller'
export type CeilingField = LimitField | 'permissions' | 'expires_at'

/** Why a control is held back; `own` is the value that caps it (`null` where a permission is missing). */
export interface CeilingReason {
  whose: Whose
  field: CeilingField
  own: number | string | null
}

export interface LimitCeiling {
  /** Whether a ceiling holds the field (the form then shows `reason`). */
  locked: boolean
  /** The most it may be set to; `null` = no maximum. */
  max: number | null
  /** Whether it may be set to empty, i.e. unlimited. */
  allowUnlimited: boolean
  /** Editing: the key's value now, which it may keep even where it is looser (unchanged is not checked). */
  current: number | null
  /** Creating: what an empty field inherits from the caller's key; `null` when it stays unlimited. */
  inherits: number | null
  reason: CeilingReason | null
}

export interface PermissionCeiling {
  locked: boolean
  reason: CeilingReason | null
}

export interface ExpiryCeiling {
  locked: boolean
  /** The latest expiry allowed (RFC 3339); `null` = any. */
  max: string | null
  /** Whether "never expires" may be chosen. */
  allowNever: boolean
  /** Editing: the key's expiry now, which it may keep. */
  current: string | null
  /** Creating: the expiry an empty field inherits from the caller's key. */
  inherits: string | null
  reason: CeilingReason | null
}

export interface KeyCeiling {
  /** `null`: nothing is capped (admins, or the caller's own key is not known yet). */
  whose: Whose | null
  limits: Record<LimitField, LimitCeiling>
  permissions: Record<Permission, PermissionCeiling>
  expiry: ExpiryCeiling
}

/** Whether a set of permissions grants `p` (admin grants everything; exactly as the server checks). */
export function grants(perms: readonly string[], p: Permission): boolean {
  return perms.includes('admin') || perms.includes(p)
}

/** Which ceiling applies and whose values set it; `null` when none does. */
function source(
  caller: CeilingCaller,
  own: KeyGrant | null,
  target: KeyGrant | null,
): { whose: Whose; from: KeyGrant } | null {
  if (caller.kind !== 'key' || !caller.keyId) return null
  if (target && target.id === caller.keyId) {
    // The freshest copy of itself: the page fetches the caller's key; the list row may be older.
    return { whose: 'self', from: own && own.id === target.id ? own : target }
  }
  if (grants(caller.permissions, 'admin')) return null
  if (!own || own.id !== caller.keyId) return null
  return { whose: 'caller', from: own }
}

function limitCeiling(whose: Whose | null, field: LimitField, own: number | null, target: KeyGrant | null): LimitCeiling {
  const current = target ? (target[field] ?? null) : null
  if (whose === null || own === null) {
    return { locked: false, max: null, allowUnlimited: true, current, inherits: null, reason: null }
  }
  return {
    locked: true,
    max: own,
    allowUnlimited: false,
    current,
    inherits: whose === 'caller' && !target ? own : null,
    reason: { whose, field, own },
  }
}

/**
 * The ceiling the form holds a key to: `caller` is who is signed in, `own` the caller's own key (`GET
 * /v1/api-keys/{key_id}`; `null` when not a key session or not loaded yet), `target` the key being
 * edited (`null` when creating one).
 */
export function keyCeiling(caller: CeilingCaller, own: KeyGrant | null, target: KeyGrant | null): KeyCeiling {
  const src = source(caller, own, target)
  const whose = src?.whose ?? null
  const limits = Object.fromEntries(
    LIMIT_FIELDS.map((f) => [f, limitCeiling(whose, f, src ? (src.from[f] ?? null) : null, target)]),
  ) as Record<LimitField, LimitCeiling>
  const permissions = Object.fromEntries(
    PERMISSIONS.map((p) => {
      const locked = !!src && !grants(src.from.permissions, p)
      return [p, { locked, reason: locked && src ? { whose: src.whose, field: 'permissions', own: null } : null }]
    }),
  ) as Record<Permission, PermissionCeiling>
  const ownExpiry = src?.from.expires_at ?? null
  const current = target?.expires_at ?? null
  const expiry: ExpiryCeiling =
    src && ownExpiry
      ? {
          locked: true,
          max: ownExpiry,
          allowNever: false,
          current,
          inherits: src.whose === 'caller' && !target ? ownExpiry : null,
          reason: { whose: src.whose, field: 'expires_at', own: ownExpiry },
        }
      : { locked: false, max: null, allowNever: true, current, inherits: null, reason: null }
  return { whose, limits, permissions, expiry }
}

/**
 * Why `value` (empty = `undefined`/`null`) may not be set on a limit field, or `null` when it may. A value
 * left as the key has it is always fine, and an empty field of a new key inherits the caller's.
 */
export function limitProblem(c: LimitCeiling, value: number | null | undefined): CeilingReason | null {
  if (!c.locked) return null
  const v = value ?? null
  if (v === c.current) return null
  if (v === null) return c.allowUnlimited || c.inherits !== null ? null : c.reason
  return c.max !== null && v > c.max ? c.reason : null
}

/** As `limitProblem`, for the expiry (empty = never expires). */
export function expiryProblem(c: ExpiryCeiling, value: Date | null | undefined): CeilingReason | null {
  if (!c.locked) return null
  const at = value ? value.getTime() : null
  const current = c.current ? Date.parse(c.current) : null
  if (at === current) return null
  if (at === null) return c.allowNever || c.inherits !== null ? null : c.reason
  return c.max !== null && at > Date.parse(c.max) ? c.reason : null
}

/**
 * The highest number a limit input accepts: the ceiling, or the key's current value where that is higher
 * (so the input does not silently lower a looser key it merely shows); `undefined` = no maximum.
 */
export function inputMax(c: LimitCeiling): number | undefined {
  if (c.max === null) return undefined
  return c.current !== null && c.current > c.max ? c.current : c.max
}

/**
 * Why the caller may not make `target` active again (the server then checks every field of it against
 * the caller's key), or `null` when it may.
 */
export function activationProblem(
  caller: CeilingCaller,
  own: KeyGrant | null,
  target: KeyGrant,
): CeilingReason | null {
  const c = keyCeiling(caller, own, target)
  if (c.whose === null) return null
  for (const f of LIMIT_FIELDS) {
    const l = c.limits[f]
    if (l.locked && (l.current === null || (l.max !== null && l.current > l.max))) return l.reason
  }
  for (const p of PERMISSIONS) {
    if (target.permissions.includes(p) && c.permissions[p].locked) return c.permissions[p].reason
  }
  const e = c.expiry
  if (e.locked && e.max && (!e.current || Date.parse(e.current) > Date.parse(e.max))) return e.reason
  return null
}

/** A limit's value as the UI shows it (cost in USD). */
export function formatLimit(field: LimitField, v: number, locale: string = currentLocale.value): string {
  return field === 'monthly_cost_limit' ? formatMoney(v, locale) : formatInteger(v, locale)
}

function ownText(r: CeilingReason, locale: string): string {
  if (r.own === null) return ''
  if (r.field === 'expires_at') return formatDateTime(String(r.own), locale, undefined, false)
  if (r.field === 'permissions' || typeof r.own !== 'number') return String(r.own)
  return formatLimit(r.field, r.own, locale)
}

/** The sentence shown next to a locked control. */
export function reasonText(r: CeilingReason, locale: string = currentLocale.value): string {
  const value = ownText(r, locale)
  const kind = r.field === 'permissions' ? 'Permission' : r.field === 'expires_at' ? 'Expiry' : 'Limit'
  return t(`ceiling.${r.whose}${kind}`, { value })
}

/** The placeholder of an empty field on a new key: what it inherits from the caller's key. */
export function inheritsText(field: LimitField | 'expires_at', v: number | string, locale: string = currentLocale.value): string {
  const value =
    field === 'expires_at' ? formatDateTime(String(v), locale, undefined, false) : formatLimit(field, Number(v), locale)
  return t('ceiling.inherits', { value })
}

/** Why the caller's key cannot switch a key back on (`activationProblem`), as a sentence. */
export function activationText(r: CeilingReason, locale: string = currentLocale.value): string {
  if (r.field === 'permissions') return t('ceiling.activatePermission')
  const value = ownText(r, locale)
  if (r.field === 'expires_at') return t('ceiling.activateExpiry', { value })
  return t('ceiling.activateLimit', { field: t(`limits.${r.field}`), value })
}
