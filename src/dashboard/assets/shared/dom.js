/*
 * The page's building blocks, used by every view: find an element by id (a missing one is a bug,
 * so it throws), make an element property by property (never from markup, so server text stays
 * text), mark a button busy, and show a form's field errors where screen readers find them.
 */
/* global document */

/** The element with this id; throws when the page has none, so a renamed id fails loudly. */
export function $(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element;
}

/** A new HTML element with these properties; text goes in as `textContent`, never as markup. */
export function element(tag, properties) {
  return Object.assign(document.createElement(tag), properties);
}

export function busy(button, isBusy) {
  button.disabled = isBusy;
  button.setAttribute("aria-busy", String(isBusy));
}

/** Marks `fields` ({inputId: message}) invalid and focuses the first; clears the others. */
export function showFieldErrors(form, fields) {
  let first = null;
  for (const input of form.querySelectorAll("input, select, textarea, fieldset")) {
    if (!input.id) continue;
    const message = fields[input.id];
    const error = document.getElementById(`${input.id}-error`);
    if (error !== null) error.textContent = message ?? "";
    if (message) {
      input.setAttribute("aria-invalid", "true");
      first ??= input.matches("fieldset") ? input.querySelector("input") : input;
    } else {
      input.removeAttribute("aria-invalid");
    }
  }
  first?.focus();
}
