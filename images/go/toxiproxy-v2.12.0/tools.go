//go:build tools

// Package tools keeps Toxiproxy's server main package (cmd/server) in this
// module's build list, so `go mod tidy` retains every module it needs.
package tools

import (
	_ "github.com/Shopify/toxiproxy/v2/cmd/server"
)
