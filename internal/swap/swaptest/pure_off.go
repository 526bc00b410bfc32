//go:build !pure

package swaptest

// pureOnly is true in builds with -tags pure, which run only the root-free
// tests: the mutation run (test/mutation/run.sh), where every mutant reruns
// a package's tests and a loop mount or swapon per mutant would test the
// kernel, not the mutated decision; and the arm64 run under qemu-user in
// .ci/run, which translates syscalls to the host's kernel and so cannot show
// an arm64 kernel's swap. The privileged tests run natively, as root, in the
// same CI run.
const pureOnly = false
