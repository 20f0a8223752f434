# Static m3coordinator (CGO_ENABLED=0) in an empty image: nothing to pull.
FROM scratch
COPY m3coordinator /bin/m3coordinator
ENTRYPOINT ["/bin/m3coordinator"]
CMD ["-f", "/etc/m3coordinator/m3coordinator.yml"]
