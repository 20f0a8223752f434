# Static Toxiproxy server built from its own module (github.com/Shopify/toxiproxy/v2/cmd/server)
# in an empty image: the fault proxy of clusters started with faults: true.
FROM scratch
COPY toxiproxy /usr/local/bin/toxiproxy
ENTRYPOINT ["/usr/local/bin/toxiproxy"]
