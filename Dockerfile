# Sluice as a container image. Needs nothing but the npm registry to build (no git, no native
# toolchain: every dependency is plain JavaScript or WebAssembly). docs/deploy.md#container-image.
#
#   docker build -t sluice .
#   docker run -p 8080:8080 -e REDIS_URL=redis://redis:6379 -e DATABASE_URL=postgres://… sluice
#
# Stage 1 builds dist/ with the dev dependencies (TypeScript); stage 2 keeps only what runs.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/ scripts/
COPY src/ src/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    SLUICE_DATA_DIR=/var/lib/sluice
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
# Read at run time: the demo config (the default when no config is named) and the gRPC service's .proto files.
COPY examples/ examples/
COPY proto/ proto/
# The image's own user (uid 10001), not root; it owns only the embedded database's directory.
RUN useradd --system --uid 10001 --home-dir /var/lib/sluice --create-home --shell /usr/sbin/nologin sluice \
 && chmod 0700 /var/lib/sluice
USER sluice
VOLUME /var/lib/sluice
EXPOSE 8080
# /readyz is for the load balancer: a container whose upstream is down is alive, not broken.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node as PID 1 gets SIGTERM from `docker stop` and drains: give it longer than server.drainDelay plus
# server.shutdownTimeout (30 s by default; 45 s with docs/deploy.md's drainDelay of 15 s):
# docker stop -t 50, stop_grace_period: 50s in Compose, terminationGracePeriodSeconds: 50 in Kubernetes.
ENTRYPOINT ["node", "dist/cli/sluice.js"]
CMD ["start"]
