# m3aggregator built with -gcflags='all=-N -l' (no optimisation, no inlining)
# and delve, both static, in an empty image. The fixture runs
#   dlv exec /bin/m3aggregator --headless --listen=127.0.0.1:<debug port> ... -- -f <config>
# Release builds record sources -trimpath style (github.com/m3db/m3@<version>/src/...);
# builds from a local checkout (m3Source) keep the checkout's own paths.
FROM scratch
COPY m3aggregator-debug /bin/m3aggregator
COPY dlv /bin/dlv
COPY m3agg-probe /bin/m3agg-probe
ENTRYPOINT ["/bin/dlv"]
