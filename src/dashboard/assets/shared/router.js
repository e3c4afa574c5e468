/*
 * Which view the page shows: the URL's hash names it (#/keys, #/admin-limits?ip=…). app.js hands
 * over the views; an unknown one gives way to the welcome page or the playground, a signed-in one
 * asked for while signed out to the sign-in form, and a signed-out one while signed in to the
 * playground. Showing a view hides the others, marks its link in the menu,
 * titles the tab, lets the view load what it shows (given the hash's query) and, when someone
 * navigated there, moves the focus to its heading.
 */
/* global document, window */
import { $ } from "./dom.js";
import { session } from "./session.js";

/** Name → { section, title, signedIn, navLink?, show?(params) }: set once by routeViews. */
let views = {};

/** Takes the views and shows the one named on every change of the hash. */
export function routeViews(table) {
  views = table;
  window.addEventListener("hashchange", () => showView({ focus: true }));
}

/** Shows the view the hash names, or the right default for a signed-in or signed-out visitor. */
export function showView({ focus }) {
  const [wanted, query] = window.location.hash.replace(/^#\/?/, "").split("?");
  let name = Object.hasOwn(views, wanted) ? wanted : "";
  // A signed-in view asked for while signed out asks to sign in; otherwise the side's own start.
  if (name !== "" && views[name].signedIn && session.user === null) name = "login";
  else if (name === "" || views[name].signedIn !== (session.user !== null)) name = session.user === null ? "welcome" : "playground";
  if (wanted !== name) window.history.replaceState(null, "", `#/${name}`);
  const params = new window.URLSearchParams(wanted === name ? query ?? "" : "");

  const view = views[name];
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== view.section;
  for (const link of document.querySelectorAll("[data-page-link]")) {
    if (link.dataset.pageLink === (view.navLink ?? name)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${view.title} · Sluice`;
  view.show?.(params);
  if (focus) $(view.section).querySelector("h1").focus();
}

/** Goes to a view; to the one already shown, shows it afresh. */
export function navigate(name) {
  if (window.location.hash === `#/${name}`) showView({ focus: true });
  else window.location.hash = `#/${name}`;
}
