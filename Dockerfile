# syntax=docker/dockerfile:1
# Portcullis: the service, its compiled TypeScript and the built-in policy bundle on Node.js 20, running as a
# non-root user on a read-only root filesystem (the chart mounts an emptyDir at /tmp and sets both).
#
#   docker build -t ghcr.io/portcullis/portcullis:0.1.0 .      (the chart's default image: <repository>:<appVersion>)
#
# test/images/dockerfile.test.ts runs these build steps as shell in a scratch directory, so they stay true.
# The sidecar needs no image of ours: Envoy and the redirect's iptables come in public images
# (src/admission/injection/defaults.ts).

ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim
ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm

# Go builds the pinned OPA (tools/opa), which compiles policies/ into the WebAssembly bundle.
FROM ${GO_IMAGE} AS go

FROM ${NODE_IMAGE} AS build
COPY --from=go /usr/local/go /usr/local/go
ENV PATH=/usr/local/go/bin:$PATH
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY scripts ./scripts
COPY tools/opa ./tools/opa
COPY src ./src
COPY policies ./policies
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/build/bundle.tar.gz ./build/bundle.tar.gz
# Nothing here is writable by the service's user: the root filesystem can be mounted read-only.
USER 65532:65532
EXPOSE 8443 9191 9192 9090 15012
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
