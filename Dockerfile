# syntax=docker/dockerfile:1
# tessera in a container: docs/operations.md.
#   docker build -t tessera .
#   docker run -d -p 8080:8080 -v tessera-data:/data -e ISSUER=https://auth.example.com tessera

ARG NODE_IMAGE=node:20-bookworm-slim

# Production dependencies only. --ignore-scripts keeps npm from running the
# package's own "prepare" (the build, which needs the devDependencies);
# better-sqlite3's addon is then built on its own: a prebuilt binary when one
# matches, else compiled with the tools installed in this stage only.
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && node -e "new (require('better-sqlite3'))(':memory:').close()"

# `npm run build`: the server's TypeScript to dist/, the browser client and the web
# app served at GET / to web/dist (nothing here needs the native addon).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json knexfile.ts ./
COPY scripts/build-web.mjs ./scripts/
COPY src ./src
COPY db ./db
COPY client ./client
COPY web ./web
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    DATABASE_URL=sqlite:/data/tessera.db \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY package.json ./
COPY bin ./bin
# The SQLite database (and its -wal/-shm files) live in /data, owned by the unprivileged user.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# tessera handles SIGTERM itself (stops accepting, closes sockets with 1001, exits 0 within 10 s).
STOPSIGNAL SIGTERM
CMD ["node", "bin/tessera.js", "serve"]
