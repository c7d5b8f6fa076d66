// The HTTP contract, typed from the API's OpenAPI document
// (`docs/openapi.json` → `src/api/schema.d.ts` at build time).

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./api/schema";

export type Conversation = components["schemas"]["Conversation"];
export type Message = components["schemas"]["Message"];
export type TimelineEvent = components["schemas"]["TimelineEvent"];
export type Member = components["schemas"]["Member"];
export type Settings = components["schemas"]["Settings"];
export type Problem = components["schemas"]["Problem"];

/** A refused request: the contract's problem, shown to people by its `detail`. */
export class ApiProblem extends Error {
  constructor(
    public status: number,
    public code: string,
    detail: string,
  ) {
    super(detail);
  }
}

export type Api = ReturnType<typeof createClient<paths>>;

export function makeApi(baseUrl: string, token: () => string): Api {
  const api = createClient<paths>({ baseUrl });
  const auth: Middleware = {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token()}`);
      return request;
    },
  };
  api.use(auth);
  return api;
}

/** The data of an answer, or its problem thrown. */
export function ok<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.error !== undefined || r.data === undefined) {
    const p = (r.error ?? {}) as Partial<Problem>;
    throw new ApiProblem(r.response.status, p.code ?? "error", p.detail ?? `HTTP ${r.response.status}`);
  }
  return r.data;
}
