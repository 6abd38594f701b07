# The pod sandbox image, as Kubernetes builds it (build/pause): pause.c compiled statically.
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
