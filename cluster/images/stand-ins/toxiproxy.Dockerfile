# Stand-in for ghcr.io/shopify/toxiproxy:2.12.0 where images cannot be pulled: Toxiproxy v2.12.0's
# server and CLI built from the Go module (`go install`, the binaries `chaosext install` caches)
# with the official image's contract: ENTRYPOINT /toxiproxy, CMD -host=0.0.0.0, /toxiproxy-cli,
# port 8474. Difference: built without the release's version stamp, so /version and -version say
# "git" (the module version, v2.12.0, is in the binary's build info: `go version -m`).
# Build context: toxiproxy-server and toxiproxy-cli (scripts/ci-build-images.sh --stand-ins).
ARG BASE_IMAGE=chaosext/debian:bookworm
FROM ${BASE_IMAGE}

LABEL io.chaosext.stand-in-for="ghcr.io/shopify/toxiproxy:2.12.0" \
      org.opencontainers.image.version="2.12.0" \
      org.opencontainers.image.description="Toxiproxy v2.12.0 built with go install (stands in for ghcr.io/shopify/toxiproxy:2.12.0)"

COPY toxiproxy-server /toxiproxy
COPY toxiproxy-cli /toxiproxy-cli
EXPOSE 8474
ENTRYPOINT ["/toxiproxy"]
CMD ["-host=0.0.0.0"]
