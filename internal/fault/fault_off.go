//go:build !faultpoints

package fault

// At marks a point a crash test may stop at. A no-op in release builds.
func At(Point) {}
