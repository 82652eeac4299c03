// Fetch helpers for the JSON API (playground/api.py). Writes carry Django's CSRF token.

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

export const api = {
  kinds: () => getJSON("/api/kinds"),
  examples: () => getJSON("/api/examples"),
  example: (slug) => getJSON(`/api/examples/${encodeURIComponent(slug)}`),
  validate: (doc, opts) => postJSON("/api/validate", doc, opts),
};
