package install

import "strings"

// unitTemplate is the systemd unit that runs `swap-bootstrap apply` at every
// boot; @BINARY@ stands for the binary's path. It is the one source of the
// unit: Install writes UnitFor(BinaryPath) to UnitPath, and the release build
// packages UnitFor(PackageBinaryPath) as PackageUnitPath (tools/pkgfiles).
//
// Ordering only, never Requires=/BindsTo= on docker: if swap-bootstrap fails,
// Docker must still start. Default dependencies are kept so the unit is
// stopped cleanly at shutdown and ordered after sysinit.target.
const unitTemplate = `# swap-bootstrap's boot unit, written by swap-bootstrap install (removed by
# swap-bootstrap uninstall) or installed by the swap-bootstrap package.
[Unit]
Description=Create and enable the swapfile sized for this EC2 instance type
Documentation=https://github.com/soundhub/swap-bootstrap
# The instance type comes from the EC2 instance metadata service, which needs
# the network; the swapfile needs the local filesystems.
Wants=network-online.target
After=network-online.target local-fs.target
# On EKS nodes nodeadm's config phase writes kubelet's configuration from
# user data, which decides whether swap is allowed there; its run phase
# starts kubelet and waits for it, so never After= that one. hibinit-agent
# is Type=simple: this orders only its start, and swap-bootstrap asks the
# metadata service itself whether hibernation is configured.
After=nodeadm-config.service hibinit-agent.service
# Swap must be active before the memory-hungry services start. Ordering only:
# there is no Requires= on them, so they still start if this unit fails.
Before=docker.service containerd.service ecs.service kubelet.service cloud-final.service
# Containers share the host's swap; there is nothing to do in one.
ConditionVirtualization=!container

[Service]
Type=oneshot
RemainAfterExit=yes
EnvironmentFile=-/etc/default/swap-bootstrap
ExecStart=@BINARY@ apply
# Writing the largest swapfile (32 GiB) where the filesystem cannot allocate
# it without zero-filling, at 25 MiB/s (a gp2 volume at its 100 IOPS
# baseline after its burst credits are spent), takes 32768/25 = 22 minutes.
# 30 minutes leaves room; the default 90 s would kill it halfway.
TimeoutStartSec=30min
# Also print to the console so the result shows in the EC2 console's
# "Get system log" as well as in the journal.
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`

// UnitFor returns the text of the systemd unit that runs binaryPath (an
// absolute path) at every boot.
func UnitFor(binaryPath string) string {
	return strings.ReplaceAll(unitTemplate, "@BINARY@", binaryPath)
}

// Unit returns the text of the systemd unit that Install writes to UnitPath.
func Unit() string { return UnitFor(BinaryPath) }
