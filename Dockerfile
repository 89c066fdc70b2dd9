# syntax=docker/dockerfile:1
# Build: docker build -t quota-operator .      (or: buildah bud -t quota-operator .)
#
# The operator's binary only: the simulator (sim/, crate quota-sim) is a workspace member that
# Cargo needs to read, but it is never built into or shipped in the image.
FROM docker.io/library/rust:1.95-bookworm AS build
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
    cargo build --release --locked -p quota-operator --bin quota-operator \
 && install -D -m 0755 target/release/quota-operator /out/quota-operator

# aws-lc-rs links glibc, so distroless cc (glibc, libgcc, CA certificates, tzdata; no shell, no
# package manager) rather than scratch or static.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/quota-operator /usr/local/bin/quota-operator
# Numeric, so a kubelet enforcing runAsNonRoot can verify it (a user name it cannot check).
# 65532 is distroless's nonroot user; the chart sets the same runAsUser/runAsGroup/fsGroup.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/quota-operator"]
CMD ["run"]
