// Organizations: `/v1/organizations` (tenancy issue #4). Reads carry the current month's usage.

import { http } from './http'
import type { Limits, MessageResponse, MonthUsage, PageQuery, Paginated, Status } from './types'

export interface Organization extends Limits {
  id: string
  name: string
  description: string | null
  status: Status
  created_at: string
  updated_at: string
  usage?: MonthUsage | null
}

export interface OrganizationQuery extends PageQuery {
  search?: string
  status?: Status
}

export interface OrganizationInput extends Partial<Limits> {
  name: string
  description?: string | null
  status?: Status
}

export const organizationsApi = {
  list: (q: OrganizationQuery = {}) => http.get<Paginated<Organization>>('/v1/organizations', q),
  get: (id: string) => http.get<Organization>(`/v1/organizations/${encodeURIComponent(id)}`),
  create: (body: OrganizationInput) => http.post<Organization>('/v1/organizations', body),
  update: (id: string, body: Partial<OrganizationInput>) =>
    http.patch<Organization>(`/v1/organizations/${encodeURIComponent(id)}`, body),
  remove: (id: string) =>
    http.delete<MessageResponse>(`/v1/organizations/${encodeURIComponent(id)}`),
}
