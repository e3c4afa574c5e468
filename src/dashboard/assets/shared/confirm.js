/*
 * Asks before a change that takes effect at once (a user's plan or role): the page's confirm
 * dialog, with the change in words and a button that names it. Resolves true to go ahead.
 */
import { $ } from "./dom.js";

export function confirmChange(text, action) {
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent = text;
  $("confirm-yes").textContent = action;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}
