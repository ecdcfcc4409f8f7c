# Portcullis on Node.js 22. Build: docker build -t portcullis .   (or: docker compose up --build)
FROM node:22-bookworm-slim

ENV NODE_ENV=production \
    PORT=9000 \
    HOST=0.0.0.0
WORKDIR /app

# Dependencies first, so code changes do not reinstall them. --ignore-scripts: the image already
# has Node 22, so the `node` package's download of a second Node binary is skipped; the native
# modules we use (@node-rs/argon2, esbuild) come as prebuilt optional packages.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

COPY bin ./bin
COPY src ./src
COPY config ./config
COPY tsconfig.json ./

# Run as the image's unprivileged user; .portcullis is only written outside production.
RUN mkdir -p .portcullis && chown node:node .portcullis
USER node

EXPOSE 9000
# /ready: the process answers and Redis is reachable.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||9000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# node itself is PID 1 and handles SIGTERM: stop accepting, finish in-flight requests, close Redis, exit 0.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "src/main.ts"]
