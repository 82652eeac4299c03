// Who is signed in, in the top bar: a link to their classrooms (where an instructor's classes
// are: the editor is where signing up lands), the name and a log-out button (a POST form with
// the CSRF token), or a "Sign in" link that comes back to the page it left.

import { h } from "./dom.js";
import { icon } from "./icons.js";
import { csrfToken } from "./api.js";

export function renderAccount(root, user) {
  if (user) {
    const form = h("form", { method: "post", action: "/accounts/logout", class: "account-form" },
      h("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrfToken() }),
      h("button", { type: "submit", class: "icon-button", "data-testid": "logout", "aria-label": "Log out",
                    title: "Log out" }, icon("logout", { size: 16 })));
    // the token may be rotated by a sign-in in another tab: read it when the form goes
    form.addEventListener("submit", () => { form.elements.csrfmiddlewaretoken.value = csrfToken(); });
    // icon alone below 1800 px, as Save and Share (base.css): the design's name keeps its room
    const classes = h("a", { class: "button button-small account-classes", href: "/classes",
                             "data-testid": "classrooms-link", "aria-label": "Your classrooms",
                             title: "Your classrooms: make one, hand out assignments, see grades" },
      icon("client", { size: 16 }), h("span", { class: "button-text", text: "Classrooms" }));
    root.replaceChildren(classes, h("span", { class: "account-name", title: `Signed in as ${user.name}`, "data-testid": "account" },
      icon("user", { size: 15 }), h("span", { text: user.name })), form);
    return;
  }
  const link = h("a", { class: "account-link", "data-testid": "sign-in", text: "Sign in",
                        title: "Sign in to keep your designs on every device" });
  // the address changes after a first save (/ -> /s/<id>): take it when the link is used
  const point = () => { link.href = `/accounts/login?next=${encodeURIComponent(location.pathname)}`; };
  point();
  for (const ev of ["pointerenter", "focus", "click"]) link.addEventListener(ev, point);
  root.replaceChildren(link);
}
