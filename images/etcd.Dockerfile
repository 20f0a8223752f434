# Static etcd built from etcd's own module (go.etcd.io/etcd/server/v3) in an
# empty image; same path as the official gcr.io/etcd-development/etcd image.
FROM scratch
COPY etcd /usr/local/bin/etcd
ENTRYPOINT ["/usr/local/bin/etcd"]
