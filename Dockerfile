# syntax=docker/dockerfile:1
# For machines that reach the registries of the two bases:
#
#   docker build -t REGISTRY/quota-operator:0.1.0 \
#     --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .
#
# (or `buildah bud` with the same arguments). Both bases are build arguments, so a mirror can
# stand in: --build-arg BUILD_IMAGE=... --build-arg RUNTIME_IMAGE=...
#
# Without any registry, tools/image.sh builds the same image (same binary, user, entrypoint and
# labels) from Dockerfile.local: the runtime layer there is assembled from the Debian packages
# that distroless cc is made of (libc6, libgcc-s1, ca-certificates, tzdata) on `scratch`.
#
# The operator's binary only: the simulator (sim/, crate quota-sim) is a workspace member that
# Cargo needs to read, but it is never built into or shipped in the image.
#
# Both bases are pinned by digest (the tag is kept for people; the digest decides), so a rebuild
# gets the bytes that were reviewed, not whatever the tag points at that day. No registry was
# reachable where they were pinned: the digests are the ones many public repositories pin these
# tags to independently (the rust one also in a BuildKit log of `FROM rust:1.95-bookworm`), and
# only the images' publishers can push under docker.io/library and gcr.io/distroless, so a
# digest that pulls is theirs. tools/pin-images.sh re-resolves the tags (skopeo or crane) and
# rewrites these lines; tools/chart-test.sh fails if a FROM is not pinned.
ARG BUILD_IMAGE=docker.io/library/rust:1.95-bookworm@sha256:6258907abe69656e41cd992e0b705cdcfabcbbe3db374f92ed2d47121282d4a1
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f

FROM ${BUILD_IMAGE} AS build
# `quota-operator version` prints it (QO_GIT_COMMIT at build time).
ARG REVISION=unknown
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY sim ./sim
# The allocator's build-time options (see .cargo/config.toml).
COPY .cargo ./.cargo
# Cargo checks every declared target of the workspace's manifests, the integration tests included.
COPY tests ./tests
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    QO_GIT_COMMIT="${REVISION}" cargo build --release --locked -p quota-operator --bin quota-operator \
 && install -D -m 0755 target/release/quota-operator /out/quota-operator

# aws-lc-rs links glibc, so distroless cc (glibc, libgcc, CA certificates, tzdata; no shell, no
# package manager) rather than scratch or static.
FROM ${RUNTIME_IMAGE}
ARG RUNTIME_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="quota-operator" \
      org.opencontainers.image.description="Kubernetes operator that keeps AWS and GCP quotas at or above what platform teams declare" \
      org.opencontainers.image.url="https://quota-operator.dev" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}"
COPY --from=build /out/quota-operator /usr/local/bin/quota-operator
# Numeric, so a kubelet enforcing runAsNonRoot can verify it (a user name it cannot check).
# 65532 is distroless's nonroot user; the chart sets the same runAsUser/runAsGroup/fsGroup.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/quota-operator"]
CMD ["run"]
