/**
 * The forms API calls and their cache keys. Every call of the forms UI goes through here, on the
 * generated client (cookies, CSRF header, problems thrown as ApiProblem).
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, ifMatch, ok } from "../api/client";
import type { FormUpdate, FormWrite } from "./types";

export const formsKey = ["forms"] as const;
export const formKey = (id: number) => ["forms", "detail", id] as const;

export interface ListParams {
  page: number;
  size: number;
  q?: string;
  project?: number | null;
}

const paging = (page: number, size: number) => ({ "page[number]": page, "page[size]": size });
const formPath = (id: number) => ({ path: { form_id: id } });

export const formsApi = {
  list: async (p: ListParams) =>
    ok(
      await api.GET("/api/v2/forms", {
        params: {
          query: {
            ...paging(p.page, p.size),
            ...(p.q ? { q: p.q } : {}),
            ...(p.project != null ? { project: p.project } : {}),
          },
        },
      }),
    ),
  get: async (id: number) => ok(await api.GET("/api/v2/forms/{form_id}", { params: formPath(id) })),
  create: async (body: FormWrite) => ok(await api.POST("/api/v2/forms", { body })),
  update: async (id: number, version: number, body: FormUpdate) =>
    ok(await api.PATCH("/api/v2/forms/{form_id}", { params: formPath(id), headers: ifMatch(version), body })),
  remove: async (id: number) => {
    ok(await api.DELETE("/api/v2/forms/{form_id}", { params: formPath(id) }));
  },
  clone: async (id: number) => ok(await api.POST("/api/v2/forms/{form_id}/clone", { params: formPath(id) })),
  embed: async (id: number) => ok(await api.GET("/api/v2/forms/{form_id}/embed", { params: formPath(id) })),
  submissions: async (id: number, page: number, size: number) =>
    ok(
      await api.GET("/api/v2/forms/{form_id}/submissions", { params: { ...formPath(id), query: paging(page, size) } }),
    ),
  contactSubmissions: async (contactId: number, page: number, size: number) =>
    ok(
      await api.GET("/api/v2/contacts/{contact_id}/submissions", {
        params: { path: { contact_id: contactId }, query: paging(page, size) },
      }),
    ),
  fieldTypes: async () => ok(await api.GET("/api/v2/form-field-types")),
};

/** The CSV of a form's submissions (a plain link: the browser downloads it with the session cookie). */
export const submissionsCsvUrl = (id: number) => `/api/v2/forms/${id}/submissions.csv`;

export function useForm(id: number | null) {
  return useQuery({
    queryKey: formKey(id ?? 0),
    queryFn: () => formsApi.get(id ?? 0),
    enabled: id !== null && Number.isInteger(id),
  });
}

/** Every form (first 500 by name), for pickers. */
export function useFormsList(enabled = true, q = "") {
  return useQuery({
    queryKey: [...formsKey, "pick", q],
    queryFn: async () => (await formsApi.list({ page: 1, size: 500, q })).data,
    staleTime: 30_000,
    enabled,
    placeholderData: keepPreviousData,
  });
}

/** The server's field types; the editor falls back to its own list while they load or fail. */
export function useFieldTypes() {
  return useQuery({
    queryKey: [...formsKey, "field-types"],
    queryFn: formsApi.fieldTypes,
    staleTime: 300_000,
    retry: false,
  });
}
