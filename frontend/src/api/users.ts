// Admin-UI users: `/v1/admin/users` (admins only).

import { http } from './http'
import type { MessageResponse, PageQuery, Paginated, Status } from './types'

export type Role = 'admin' | 'user'

export interface User {
  id: string
  username: string
  role: Role
  status: Status
  last_login_at: string | null
  created_at: string
  updated_at: string
}

export interface UserCreate {
  username: string
  password: string
  role: Role
}

export interface UserUpdate {
  password?: string
  role?: Role
  status?: Status
}

export const usersApi = {
  list: (q: PageQuery & { search?: string } = {}) => http.get<Paginated<User>>('/v1/admin/users', q),
  create: (body: UserCreate) => http.post<User>('/v1/admin/users', body),
  update: (id: string, body: UserUpdate) =>
    http.patch<User>(`/v1/admin/users/${encodeURIComponent(id)}`, body),
  remove: (id: string) =>
    http.delete<MessageResponse>(`/v1/admin/users/${encodeURIComponent(id)}`),
}
