module github.com/m3-aggregator-testcontainers/images/probe

go 1.22
