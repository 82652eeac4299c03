// Fetch helpers for the JSON API (playground/api/), and the design's picture. Writes
// carry Django's CSRF token.

export function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "csrftoken") return decodeURIComponent(rest.join("="));
  }
  return "";
}

async function parse(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" },
                                      credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return parse(response);
}

/** POST a JSON body; resolves to {status, data} whatever the status (errors are data). */
export async function postJSON(url, body, { signal } = {}) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json",
               "X-CSRFToken": csrfToken() },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
  return { status: response.status, data: await parse(response) };
}

/** Why a request failed, in the server's words: `errors` is its list of messages. */
export class ApiError extends Error {
  constructor(status, data) {
    const errors = Array.isArray(data?.errors) && data.errors.length ? data.errors.map(String)
      : [status === 0 ? "the server could not be reached" : `HTTP ${status}`];
    super(errors.join("; "));
    this.status = status;
    this.errors = errors;
    this.data = data;
  }
}

/** Any method, JSON in and out; resolves to the data, throws ApiError (with the server's
 * messages) for any status but 2xx, and for a network failure (status 0). `keepalive`: the
 * request outlives the page (a save as the tab closes). */
export async function request(method, url, body, { keepalive = false } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method, credentials: "same-origin", headers, keepalive,
                                  body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, null);
  }
  const data = await parse(response);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** The design drawn by the server (POST /api/picture.svg): the SVG's text. */
async function picture(doc) {
  let response;
  try {
    response = await fetch("/api/picture.svg", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "image/svg+xml", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ document: doc }),
    });
  } catch {
    throw new ApiError(0, null);
  }
  if (!response.ok) throw new ApiError(response.status, await parse(response));
  return response.text();
}

const scenarioUrl = (id, rest = "") => `/api/scenarios/${encodeURIComponent(id)}${rest}`;

/** The saved-scenario endpoints (docs/api.md). */
export const scenarios = {
  list: ({ q = "", page = 1 } = {}) =>
    request("GET", `/api/scenarios?${new URLSearchParams({ q, page: String(page) })}`),
  get: (id) => request("GET", scenarioUrl(id)),
  create: (doc) => request("POST", "/api/scenarios", { document: doc }),
  update: (id, doc, baseVersion) => request("PUT", scenarioUrl(id),
                                            { document: doc, base_version: baseVersion }),
  rename: (id, title) => request("PATCH", scenarioUrl(id), { title }),
  remove: (id) => request("DELETE", scenarioUrl(id)),
  fork: (id) => request("POST", scenarioUrl(id, "/fork")),
  versions: (id) => request("GET", scenarioUrl(id, "/versions")),
  version: (id, n) => request("GET", scenarioUrl(id, `/versions/${n}`)),
  restore: (id, n) => request("POST", scenarioUrl(id, `/versions/${n}/restore`)),
  makeEditLink: (id) => request("POST", scenarioUrl(id, "/edit-link")),
  revokeEditLink: (id) => request("DELETE", scenarioUrl(id, "/edit-link")),
};

export const api = {
  kinds: () => getJSON("/api/kinds"),
  examples: () => getJSON("/api/examples"),
  example: (slug) => getJSON(`/api/examples/${encodeURIComponent(slug)}`),
  validate: (doc, opts) => postJSON("/api/validate", doc, opts),
  picture,
};
