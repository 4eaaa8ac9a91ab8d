// Admin-UI users: `/v1/admin/users` (admins only).

import { http } from './http'
import type { MessageResponse, Paginated, QueryOf, Schemas } from './types'

/** An admin-UI user (never the password hash). */
export type User = Schemas['UserResponse']
export type UserCreate = Schemas['CreateUserBody']
export type UserUpdate = Schemas['UpdateUserBody']

export const usersApi = {
  list: (q: QueryOf<'list_users'> = {}) => http.get<Paginated<User>>('/v1/admin/users', q),
  create: (body: UserCreate) => http.post<User>('/v1/admin/users', body),
  update: (id: string, body: UserUpdate) =>
    http.patch<User>(`/v1/admin/users/${encodeURIComponent(id)}`, body),
  remove: (id: string) =>
    http.delete<MessageResponse>(`/v1/admin/users/${encodeURIComponent(id)}`),
}
