# A Python 3.11 base for machines that cannot pull python:3.11-slim: Debian bookworm's python3
# (3.11) with a virtual environment first on PATH, so `python`, `python3` and `pip` behave as in
# the official image for the Dockerfiles built on it (cluster/services/Dockerfile,
# cluster/images/chaosext.Dockerfile: --build-arg BASE_IMAGE=chaosext/python:3.11-bookworm).
# Build (any context; nothing is copied):
#   docker build -f cluster/images/python-base.Dockerfile -t chaosext/python:3.11-bookworm cluster/images
ARG DEBIAN_IMAGE=chaosext/debian:bookworm
FROM ${DEBIAN_IMAGE}

LABEL io.chaosext.stand-in-for="python:3.11-slim" \
      org.opencontainers.image.version="3.11.2" \
      org.opencontainers.image.description="Debian bookworm's python3 3.11.2 in a venv at /opt/python (stands in for python:3.11-slim)"

# the venv's interpreter is Debian's /usr/bin/python3.11; pip comes from Debian's bundled wheel
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && dpkg-query -W -f='${Version}' python3.11 | grep -q '^3\.11\.2-' \
    && python3 -m venv /opt/python

ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    VIRTUAL_ENV=/opt/python \
    LANG=C.UTF-8

CMD ["python3"]
