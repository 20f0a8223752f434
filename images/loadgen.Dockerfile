# Static m3agg-loadgen (CGO_ENABLED=0) in an empty image: nothing to pull.
# Runs as a non-root user so a restricted Pod Security profile admits it.
FROM scratch
COPY m3agg-loadgen /bin/m3agg-loadgen
USER 65532:65532
ENTRYPOINT ["/bin/m3agg-loadgen"]
