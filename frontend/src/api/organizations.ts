// Organizations: `/v1/organizations` (tenancy issue #4). Reads carry the current month's usage.

import { http } from './http'
import type { MessageResponse, Paginated, QueryOf, Schemas, Status } from './types'

/** An organization with this month's usage. */
export type Organization = Schemas['OrganizationResponse']

/** A page of organizations: `search` and `status` (one of the UI's) filter it. */
export type OrganizationQuery = QueryOf<'list_organizations'> & { status?: Status }

export type OrganizationCreate = Schemas['CreateOrganizationBody']

/** Changes to an organization: omitted fields stay, `null` clears a limit. */
export type OrganizationUpdate = Schemas['UpdateOrganizationBody']

export const organizationsApi = {
  list: (q: OrganizationQuery = {}) => http.get<Paginated<Organization>>('/v1/organizations', q),
  get: (id: string) => http.get<Organization>(`/v1/organizations/${encodeURIComponent(id)}`),
  create: (body: OrganizationCreate) => http.post<Organization>('/v1/organizations', body),
  update: (id: string, body: OrganizationUpdate) =>
    http.patch<Organization>(`/v1/organizations/${encodeURIComponent(id)}`, body),
  remove: (id: string) =>
    http.delete<MessageResponse>(`/v1/organizations/${encodeURIComponent(id)}`),
}
