//go:build tools

// Package tools keeps delve's dlv command in this module's build list.
package tools

import _ "github.com/go-delve/delve/cmd/dlv"
