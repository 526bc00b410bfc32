//go:build pure

package swaptest

const pureOnly = true
