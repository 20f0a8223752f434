// Only marks the module root: the program runs against one of the pinned module files,
// `go run -modfile=go.v1.5.0.mod .` or `-modfile=go.v1.6.0.mod` (m3's own encoder at that release).
module github.com/m3-aggregator-testcontainers/test/go/vectors

go 1.22
