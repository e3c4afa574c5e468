/*
 * Who is signed in, and the gateway's services they may see (the names are not public, so they
 * are asked for only once someone has signed in). setUser shows or hides the header's parts for
 * signed-in users and admins; pages subscribe here to forget what they showed when someone signs
 * out and to fit themselves to the services, so this module needs to know none of them.
 */
/* global document */
import { call } from "./api.js";
import { $ } from "./dom.js";

/** Read anywhere; changed only through setUser and loadServiceNames. */
export const session = {
  /** The signed-in user ({id, email, role, plan}), or null. */
  user: null,
  /** The gateway's service names. */
  services: [],
};

const signOutListeners = [];
const servicesListeners = [];

/** Runs `listener()` whenever nobody is signed in any more (and once at start for a visitor). */
export function onSignOut(listener) {
  signOutListeners.push(listener);
}

/** Runs `listener(services)` whenever the list of services changes. */
export function onServicesChange(listener) {
  servicesListeners.push(listener);
}

export function setUser(user) {
  session.user = user;
  for (const element of document.querySelectorAll(".signed-in")) element.hidden = user === null;
  for (const element of document.querySelectorAll(".admin-only")) element.hidden = user?.role !== "admin";
  $("who-email").textContent = user === null ? "" : user.email;
  if (user === null) {
    for (const listener of signOutListeners) listener();
    setServices([]);
  }
}

/** The gateway's services, for key scopes and the playground: for signed-in users only. */
export async function loadServiceNames() {
  const result = await call("GET", "/dashboard/services.json");
  setServices(result.ok ? result.data.services : []);
}

function setServices(services) {
  session.services = services;
  for (const listener of servicesListeners) listener(services);
}
