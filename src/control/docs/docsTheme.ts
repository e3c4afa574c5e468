/**
 * Sluice's /docs: Swagger UI dressed as Sluice (its title, its icon, a link back to the
 * dashboard, a choice between the consumer and the admin API), readable on a phone (a viewport
 * meta, which @fastify/swagger-ui's page lacks, put into the page as it is sent), and with the
 * names screen readers miss in the stock page added by a small script (the logo's alt text, the
 * API choice's label, icon buttons' names).
 */
import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";

const ICON = readFileSync(new URL("../../dashboard/assets/icon.svg", import.meta.url));

/** The CSS: Sluice's colours on the top bar, and Swagger's own logo hidden behind ours. */
const CSS = `
.swagger-ui .topbar { background: #0b57d0; padding: 6px 0; }
.swagger-ui .topbar .download-url-wrapper .select-label { color: #fff; }
.swagger-ui .topbar .download-url-wrapper .select-label span { color: #fff; }
.swagger-ui .topbar a.link img, .swagger-ui .topbar a.link svg { display: none; }
.swagger-ui .topbar a.link::after { content: "Sluice API docs"; color: #fff; font: 700 1.2rem system-ui, sans-serif; }
/* WCAG AA contrast for what the stock theme draws too light. */
.swagger-ui .opblock.opblock-get .opblock-summary-method { background: #0b57d0; }
.swagger-ui .opblock.opblock-post .opblock-summary-method { background: #146c2e; }
.swagger-ui .opblock.opblock-put .opblock-summary-method { background: #8a4b00; }
.swagger-ui .opblock.opblock-patch .opblock-summary-method { background: #0f5f5a; }
.swagger-ui .opblock.opblock-delete .opblock-summary-method { background: #b42318; }
.swagger-ui .opblock.opblock-head .opblock-summary-method { background: #6b3fa0; }
.swagger-ui .info .title small pre, .swagger-ui .info .title small { background: #4b5563; }
.swagger-ui .info .title small.version-stamp { background: #146c2e; }
.swagger-ui .info .url, .swagger-ui .info a { color: #0b57d0; }
.swagger-ui .btn.authorize { color: #146c2e; border-color: #146c2e; }
.swagger-ui .btn.authorize svg { fill: #146c2e; }
.swagger-ui .json-schema-2020-12-expand-deep-button { color: #4b5563; }
.sluice-back { display: inline-block; margin-left: 1rem; color: #fff !important; font: 600 1rem system-ui, sans-serif; padding: 0.5rem 0; }
@media (max-width: 40rem) { .swagger-ui .topbar .wrapper { padding: 0 0.5rem; } .swagger-ui .topbar-wrapper { flex-wrap: wrap; gap: 0.25rem; } }
`;

/** The script: names for what the stock page leaves unnamed, and the way back to the dashboard. */
const JS = `(function () {
  function fix() {
    var link = document.querySelector(".topbar a.link");
    if (link && !document.querySelector(".sluice-back")) {
      var back = document.createElement("a");
      back.className = "sluice-back";
      back.href = "/";
      back.textContent = "Back to the dashboard";
      link.parentNode.insertBefore(back, link.nextSibling);
    }
    document.querySelectorAll(".topbar img:not([alt])").forEach(function (img) { img.setAttribute("alt", ""); });
    document.querySelectorAll(".topbar select:not([aria-label])").forEach(function (select) { select.setAttribute("aria-label", "Which API"); });
    document.querySelectorAll("select#servers:not([aria-label])").forEach(function (select) { select.setAttribute("aria-label", "Server"); });
    document.querySelectorAll("button:not([aria-label])").forEach(function (button) {
      if (button.textContent.trim() !== "") return;
      var label = button.getAttribute("title") || (button.classList.contains("authorization__btn") ? "Authorize this operation" : button.classList.contains("copy-to-clipboard") ? "Copy" : "Show or hide");
      button.setAttribute("aria-label", label);
    });
  }
  new MutationObserver(fix).observe(document.documentElement, { childList: true, subtree: true });
  fix();
})();`;

export const DOCS_THEME = {
  title: "Sluice API docs",
  css: [{ filename: "sluice.css", content: CSS }],
  js: [{ filename: "sluice.js", content: JS }],
  favicon: [{ filename: "icon.svg", rel: "icon", sizes: "any", type: "image/svg+xml", content: ICON }],
};

/** The two documents /docs offers, first shown first. */
export const DOCS_URLS = [
  { name: "Consumer API: services, your account and keys", url: "/openapi/consumer.json" },
  { name: "Admin API: users, plans, limits, service tokens", url: "/openapi/admin.json" },
];

const VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">';

/** Puts a viewport meta into /docs' page, so a phone renders it at its own width, not 980 px. */
export function addDocsViewport(app: FastifyInstance): void {
  app.addHook("onSend", async (request, reply, payload) => {
    const path = request.url.split("?")[0];
    if ((path !== "/docs" && path !== "/docs/") || typeof payload !== "string" || !String(reply.getHeader("content-type") ?? "").startsWith("text/html")) return payload;
    return payload.replace(/<head>/i, `<head>\n${VIEWPORT}`);
  });
}
