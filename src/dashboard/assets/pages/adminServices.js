/*
 * Admin: services (#/admin-services): each service of the running configuration with its
 * upstream, whether the upstream answers now, its timeout and its routes' limits.
 */
import { call } from "../shared/api.js";
import { $, element } from "../shared/dom.js";
import { timeFormat } from "../shared/format.js";
import { adminAnswered } from "./admin.js";

export function wireAdminServices() {
  $("services-refresh").addEventListener("click", () => void loadServices());
}

export async function loadServices() {
  $("admin-status").textContent = "Checking the upstreams…";
  const result = await call("GET", "/admin/api/services");
  if (!adminAnswered(result)) return;
  $("service-list").replaceChildren(...result.data.items.map((service) => {
    const item = element("li", { className: "card service" });
    item.dataset.service = service.name;
    const head = element("div", { className: "key-head" });
    const healthy = service.health === "reachable";
    head.append(element("h2", { textContent: service.name }), element("span", { className: `badge${healthy ? " badge-live" : " badge-down"}`, textContent: healthy ? "Upstream answers" : "Upstream unreachable" }));
    const facts = element("dl", { className: "facts" });
    facts.append(element("dt", { textContent: "Upstream" }), element("dd", { textContent: service.upstream, className: "mono" }),
      element("dt", { textContent: "Timeout" }), element("dd", { textContent: `${service.timeoutMs / 1000} s` }));
    for (const route of service.routes) {
      facts.append(element("dt", { textContent: `${route.methods === null ? "Any" : route.methods.join(", ")} ${route.path}` }),
        element("dd", { textContent: route.limits.length === 0 ? "No limits" : `Limits: ${route.limits.join(", ")}${route.cost === 1 ? "" : ` (costs ${route.cost})`}` }));
    }
    item.append(head, facts);
    return item;
  }));
  $("admin-status").textContent = `Checked at ${timeFormat.format(new Date())}.`;
}
