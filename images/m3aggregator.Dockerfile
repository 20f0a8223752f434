# Static m3aggregator (CGO_ENABLED=0) in an empty image: nothing to pull.
# The binary sits where the official image has it, so the fixture runs either.
FROM scratch
COPY m3aggregator /bin/m3aggregator
# Connectivity probe for `m3agg connectivity` (container-to-node checks; no shell in scratch).
COPY m3agg-probe /bin/m3agg-probe
ENTRYPOINT ["/bin/m3aggregator"]
CMD ["-f", "/etc/m3aggregator/m3aggregator.yml"]
