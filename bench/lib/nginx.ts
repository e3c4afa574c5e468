/**
 * The NGINX target: the Debian package's binary, one process (`master_process off`, so the pid we
 * hold is the one that serves and /proc/<pid>/stat is its whole CPU time), pinned like every proxy.
 * Its config, written to a temp dir, does what the gateways do: `x-api-key` looked up in a `map`
 * of the bench's keys (401 when absent), `limit_req` per consumer at a rate that is never reached,
 * and `proxy_pass` over a keep-alive upstream.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, start, type Child } from "./children.js";
import { benchKey, consumerName, KEY_COUNT } from "./keys.js";

export const NGINX = "/usr/sbin/nginx";

export const hasNginx: boolean = existsSync(NGINX);

function config(dir: string, upstreamHostPort: string, port: number, prefix: string): string {
  return `# Written by bench/lib/nginx.ts for one run; deleted when the bench exits.
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr notice;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map_hash_max_size 65536;
  map $http_x_api_key $consumer {
    default "";
    include ${dir}/keys.map;
  }
  # 10^6 per second with a burst of 10^6: counted on every request, never reached.
  limit_req_zone $consumer zone=consumers:16m rate=1000000r/s;
  upstream users {
    server ${upstreamHostPort};
    keepalive 256;
  }
  server {
    listen 127.0.0.1:${port};
    location ${prefix}/ {
      if ($consumer = "") { return 401; }
      limit_req zone=consumers burst=1000000 nodelay;
      proxy_pass http://users/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** Writes the config into `dir` and starts nginx; resolves with its base URL once it serves. */
export async function startNginx(dir: string, upstreamUrl: string, prefix: string, core: number | undefined, timeoutMs: number): Promise<{ child: Child; match: string }> {
  mkdirSync(dir, { recursive: true });
  const keys = Array.from({ length: KEY_COUNT }, (_, i) => `${benchKey(i)} ${consumerName(i)};`).join("\n");
  writeFileSync(join(dir, "keys.map"), `${keys}\n`);
  const port = await freePort();
  writeFileSync(join(dir, "nginx.conf"), config(dir, new URL(upstreamUrl).host, port, prefix));
  // The last notice nginx logs at start-up comes after its sockets are bound.
  const { child } = await start({ name: "nginx", command: NGINX, args: ["-p", dir, "-c", join(dir, "nginx.conf")], core, ready: /getrlimit\(RLIMIT_NOFILE\)|start worker process/, timeoutMs });
  return { child, match: `http://127.0.0.1:${port}` };
}
