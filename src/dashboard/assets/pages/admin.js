/*
 * The admin page's frame, shared by its four panels (adminUsers.js, adminPlans.js,
 * adminServices.js, adminLimits.js): its tabs, its status line, and what every admin call may
 * answer. The page is shown to anyone who opens it; the API answers a non-admin 403, and then
 * the panels are hidden and the page says why.
 */
/* global document */
import { problemText } from "../shared/api.js";
import { $ } from "../shared/dom.js";
import { sessionEnded } from "./signIn.js";

/** Shows one admin panel (its tab marked, the others hidden) before it loads what it shows. */
export function showAdminPanel(name, title) {
  $("admin-title").textContent = title;
  for (const link of document.querySelectorAll("[data-admin-link]")) {
    if (link.dataset.adminLink === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const panel of document.querySelectorAll(".admin-panel")) panel.hidden = panel.id !== name;
  $("admin-forbidden").hidden = true;
  $("admin-tabs").hidden = false;
  $("admin-status").textContent = "";
}

/** Handles what every admin call may answer; true when the caller should go on with the data. */
export function adminAnswered(result) {
  if (result.ok) return true;
  if (result.status === 401) {
    sessionEnded();
  } else if (result.status === 403) {
    // A proper 403 view: no panel, no tabs, no "Loading…" left behind.
    for (const panel of document.querySelectorAll(".admin-panel")) panel.hidden = true;
    $("admin-tabs").hidden = true;
    $("admin-title").textContent = "Admin";
    $("admin-status").textContent = "";
    $("admin-forbidden").hidden = false;
  } else {
    $("admin-status").textContent = problemText(result);
  }
  return false;
}
