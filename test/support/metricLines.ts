/** The sample lines of a Prometheus text exposition that start with a prefix, for exact assertions. */
export function metricLines(exposition: string, prefix: string): string[] {
  return exposition.split("\n").filter((line) => line.startsWith(prefix));
}
