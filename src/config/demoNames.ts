/** The built-in demo services, by the name a config uses in `demo://<name>`. */
export const DEMO_SERVICE_NAMES = ["users", "recommendations", "random-number"] as const;
export type DemoServiceName = (typeof DEMO_SERVICE_NAMES)[number];
