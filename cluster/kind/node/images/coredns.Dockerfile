# CoreDNS as the official image lays it out (/coredns as the entrypoint; kubeadm's Deployment passes
# only -conf), built from github.com/coredns/coredns at the version kubeadm deploys.
FROM scratch
COPY coredns /coredns
EXPOSE 53 53/udp
ENTRYPOINT ["/coredns"]
