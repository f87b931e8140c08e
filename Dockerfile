# syntax=docker/dockerfile:1
# standin in a container: `docker run -p 8080:8080 -v $PWD/specs:/specs standin serve /specs/mine.yaml --host 0.0.0.0`

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so that they are cached while only the sources change.
COPY Cargo.toml Cargo.lock ./
# Stand-ins for the sources (and the example Cargo.toml declares) while the
# dependencies build.
RUN mkdir src examples && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && echo 'fn main() {}' > examples/todo_client.rs \
    && cargo build --release --locked \
    && rm -rf src examples
COPY src ./src
COPY examples ./examples
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && strip target/release/standin

FROM debian:bookworm-slim
# CA certificates: an https:// upstream's certificate is verified against them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin standin \
    && mkdir -p /data /specs \
    && chown standin /data
COPY --from=build /src/target/release/standin /usr/local/bin/standin
COPY specs/ /specs/
USER standin
WORKDIR /data
# Spec files (mount yours here) and SQLite files for --db.
VOLUME ["/specs", "/data"]
EXPOSE 8080
ENV STANDIN_HOST=0.0.0.0 STANDIN_PORT=8080
ENTRYPOINT ["standin"]
CMD ["serve", "/specs/blog.yaml"]
