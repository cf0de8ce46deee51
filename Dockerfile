# Cistern in a container: a Debian 12 build stage, then a slim Debian 12 runtime with only the
# shared libraries the binaries link (the runtime list is what `ldd build/cistern` resolves to
# on Debian 12). Not built in this project's CI (no Docker engine there): see README.
#   docker build -t cistern .
#   docker run --rm -p 8080:8080 -v cistern-data:/var/lib/cistern cistern
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libboost1.81-dev libsqlite3-dev libsimdjson-dev \
      libcli11-dev libspdlog-dev libfmt-dev zlib1g-dev libssl-dev libcurl4-openssl-dev \
      libnats-dev libmosquitto-dev libtomlplusplus-dev libsystemd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY src ./src
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build /build -j"$(nproc)" --target cistern cistern-mcp cistern-loadgen

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libsqlite3-0 libsimdjson14 libspdlog1.10 libfmt9 zlib1g libssl3 libcurl4 libnats3.4 \
      libmosquitto1 libtomlplusplus3 libsystemd0 ca-certificates curl sqlite3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/cistern --shell /usr/sbin/nologin cistern \
 && install -d -o cistern -g cistern -m 0750 /var/lib/cistern
COPY --from=build /build/cistern /build/cistern-mcp /build/cistern-loadgen /usr/local/bin/
COPY deploy/cistern.toml /etc/cistern/cistern.toml
USER cistern
WORKDIR /var/lib/cistern
VOLUME /var/lib/cistern
# The file's settings, with what a container needs on top (env beats file).
ENV CISTERN_CONFIG=/etc/cistern/cistern.toml \
    CISTERN_DB=/var/lib/cistern/events.db \
    CISTERN_ADDR=0.0.0.0:8080 \
    CISTERN_SINK=log
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s \
  CMD curl -fsS http://127.0.0.1:8080/healthz >/dev/null || exit 1
ENTRYPOINT ["cistern"]
