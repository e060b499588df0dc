# Stand-in for docker.io/library/debian:bookworm-slim (the sidecar image's base): Debian bookworm minbase with the PATH
# Docker's official images set (the imported tarball has none, and `podman kube play` runs images with the PATH they carry).
ARG DEBIAN=localhost/certrole-local/debian:bookworm
FROM ${DEBIAN}
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
