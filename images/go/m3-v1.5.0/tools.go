//go:build tools

// Package tools keeps the two m3 main packages in this module's build list,
// so `go mod tidy` retains every module they need.
package tools

import (
	_ "github.com/m3db/m3/src/cmd/services/m3aggregator/main"
	_ "github.com/m3db/m3/src/cmd/services/m3coordinator/main"
)
