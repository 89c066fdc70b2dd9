# Build: docker build -t quota-operator .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin quota-operator

# aws-lc-rs links glibc, so a distroless cc image rather than scratch; non-root by default.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/quota-operator /usr/local/bin/quota-operator
USER nonroot
ENTRYPOINT ["/usr/local/bin/quota-operator"]
CMD ["run"]
