/*
 * The dashboard's entry module: index.html loads it with <script type="module">, and it imports
 * the rest by relative path; src/dashboard/dashboard.ts serves them all as they are (no build).
 * One page, views chosen by the URL's hash: the welcome page (#/welcome, the signed-out default),
 * sign-in/sign-up (#/login, #/signup), a password reset from an admin's link (#/reset), the playground
 * (#/playground), API keys (#/keys), usage charts (#/usage), the account's password (#/account),
 * and for admins users, plans, services and the limit inspector (#/admin-users, -plans,
 * -services, -limits). This module names the views, wires each page and starts.
 *
 * Beside it: pages/, one module per view (the admin page's frame in admin.js, each of its panels
 * in its own), and shared/, what is not a page: api.js (the one way to Sluice), dom.js, format.js,
 * rateLimitHeaders.js, limitTable.js, session.js (who is signed in) and router.js (hash → view).
 * Shared modules never import a page. The pages only call this origin: the JSON API under
 * /auth, /account and /admin/api, and the gateway's /api/* with the session cookie. Text from
 * the server is set with textContent, never parsed as HTML; charts are SVG elements made one by
 * one.
 */
/* global document */
import { call } from "./shared/api.js";
import { $ } from "./shared/dom.js";
import { routeViews, showView } from "./shared/router.js";
import { loadServiceNames, session, setUser } from "./shared/session.js";
import { showAccount, wireAccount } from "./pages/account.js";
import { showAdminPanel } from "./pages/admin.js";
import { inspectFromParams, wireAdminLimits } from "./pages/adminLimits.js";
import { loadPlans, wireAdminPlans } from "./pages/adminPlans.js";
import { loadServices, wireAdminServices } from "./pages/adminServices.js";
import { loadUsers, wireAdminUsers } from "./pages/adminUsers.js";
import { loadKeys, wireKeys } from "./pages/keys.js";
import { showPlayground, wirePlayground } from "./pages/playground.js";
import { setAuthMode, showReset, wireSignIn } from "./pages/signIn.js";
import { loadUsageSubjects, wireUsage } from "./pages/usage.js";

/** A panel of the admin page: its tab is shown, then it loads what it shows. */
function adminView(panel, title, load) {
  return {
    section: "page-admin", title, signedIn: true, navLink: "admin",
    show: (params) => {
      showAdminPanel(panel, title);
      load(params);
    },
  };
}

/** Name (in the hash) → the page's section, the tab's title, who may see it, and what it loads. */
const VIEWS = {
  welcome: { section: "page-welcome", title: "Welcome", signedIn: false },
  reset: { section: "page-reset", title: "Set a new password", signedIn: false, show: showReset },
  login: { section: "page-auth", title: "Log in", signedIn: false, show: () => setAuthMode("login") },
  signup: { section: "page-auth", title: "Sign up", signedIn: false, show: () => setAuthMode("signup") },
  playground: { section: "page-playground", title: "Playground", signedIn: true, show: () => void showPlayground() },
  keys: { section: "page-keys", title: "API keys", signedIn: true, show: () => void loadKeys() },
  usage: { section: "page-usage", title: "Usage", signedIn: true, show: (params) => void loadUsageSubjects(params.get("key")) },
  account: { section: "page-account", title: "Account", signedIn: true, show: showAccount },
  "admin-users": adminView("admin-users", "Admin: users", () => void loadUsers(false)),
  "admin-plans": adminView("admin-plans", "Admin: plans", () => void loadPlans()),
  "admin-services": adminView("admin-services", "Admin: services", () => void loadServices()),
  "admin-limits": adminView("admin-limits", "Admin: limit inspector", inspectFromParams),
};

async function start() {
  wireSignIn();
  wirePlayground();
  wireKeys();
  wireUsage();
  wireAccount();
  wireAdminUsers();
  wireAdminPlans();
  wireAdminServices();
  wireAdminLimits();
  routeViews(VIEWS);
  // The skip link moves the focus to the view's heading; a plain #main would change the route.
  $("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    document.querySelector("main > section:not([hidden]) h1")?.focus();
  });

  const me = await call("GET", "/auth/me");
  setUser(me.status === 200 ? me.data.user : null);
  if (session.user !== null) await loadServiceNames();
  $("loading").hidden = true;
  showView({ focus: false });
  document.body.dataset.ready = "true";
}

void start();
