# An AMI with swap-bootstrap baked in: the binary and its enabled systemd unit,
# but no swapfile. Each instance launched from the AMI makes its own swapfile
# at its first boot, before Docker starts, sized for its own instance type.
# A swapfile baked into the AMI would be sized for the build instance, copied
# into every snapshot, and slow to read back on first touch.
#
# The binary is either a release, downloaded on the machine running Packer and
# checked against its pin on the build instance:
#   packer init scripts/packer
#   packer build -var version=v1.0.0 -var sha256_amd64=<from SHA256SUMS> scripts/packer
# or a local build (scripts/build.sh writes dist/swap-bootstrap-linux-<arch>):
#   packer build -var region=eu-west-1 scripts/packer
#   packer build -var arch=arm64 -var instance_type=t4g.small scripts/packer
# Paths are relative to this template's directory (path.root), so the command
# works from any directory. Each release carries a copy of this file with the
# version and both pins filled in (swap-bootstrap.pkr.hcl): `packer build` on
# it needs no -var at all.
#
# To add swap-bootstrap to your own template, copy the provisioners.

packer {
  required_plugins {
    amazon = {
      source = "github.com/hashicorp/amazon"
      # imds_support needs v1.1.6 or later.
      version = ">= 1.2.0"
    }
  }
}

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "AWS region to build the AMI in."
}

variable "arch" {
  type        = string
  default     = "amd64"
  description = "amd64 (x86_64) or arm64 (Graviton); must match instance_type and the source AMI."
  validation {
    condition     = contains(["amd64", "arm64"], var.arch)
    error_message = "The arch variable must be amd64 or arm64."
  }
}

variable "instance_type" {
  type        = string
  default     = "t3.small"
  description = "Build instance type; use a Graviton type (t4g.small) with arch = arm64."
}

variable "source_ami_name" {
  type        = string
  default     = "al2023-ami-2023.*-kernel-*"
  description = "Name filter for the source AMI (Amazon Linux 2023 by default; the architecture is added from arch)."
}

variable "source_ami_owners" {
  type        = list(string)
  default     = ["amazon"]
  description = "Owners of the source AMI."
}

variable "version" {
  type        = string
  default     = ""
  description = "swap-bootstrap release to bake in, e.g. v1.0.0; downloaded from its GitHub release unless binary is set. Empty: use binary."
  validation {
    condition     = can(regex("^(v[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.+-]+)?)?$", var.version))
    error_message = "The version variable must be a release tag like v1.0.0, or empty."
  }
}

variable "sha256_amd64" {
  type        = string
  default     = ""
  description = "SHA-256 of swap-bootstrap-linux-amd64 from the release's SHA256SUMS. Required to download a release; checked against a local binary when set."
  validation {
    condition     = can(regex("^([0-9a-fA-F]{64})?$", var.sha256_amd64))
    error_message = "The sha256_amd64 variable must be 64 hex digits, or empty."
  }
}

variable "sha256_arm64" {
  type        = string
  default     = ""
  description = "SHA-256 of swap-bootstrap-linux-arm64 from the release's SHA256SUMS. Required to download a release; checked against a local binary when set."
  validation {
    condition     = can(regex("^([0-9a-fA-F]{64})?$", var.sha256_arm64))
    error_message = "The sha256_arm64 variable must be 64 hex digits, or empty."
  }
}

variable "binary" {
  type        = string
  default     = ""
  description = "Local path of the swap-bootstrap binary to bake in. Empty: the release named by version, else dist/swap-bootstrap-linux-<arch> of this repository, as scripts/build.sh writes it."
}

variable "swap_env" {
  type        = list(string)
  default     = []
  description = "Swap settings baked into /etc/default/swap-bootstrap, e.g. [\"SWAP_POLICY=ratio\", \"SWAP_MAX=16G\"]. Empty: 2 x RAM, at most 32 GiB."
}

variable "ami_name_prefix" {
  type    = string
  default = "swap-bootstrap"
}

locals {
  ami_arch = var.arch == "arm64" ? "arm64" : "x86_64"
  pin      = var.arch == "arm64" ? var.sha256_arm64 : var.sha256_amd64
  download = var.binary == "" && var.version != ""
  # A downloaded release is kept beside this template only until it is uploaded.
  binary = (var.binary != "" ? var.binary
    : local.download ? "${path.root}/.swap-bootstrap-linux-${var.arch}-${var.version}"
  : "${path.root}/../../dist/swap-bootstrap-linux-${var.arch}")
  timestamp = formatdate("YYYYMMDDhhmmss", timestamp())
}

source "amazon-ebs" "swap-bootstrap" {
  region        = var.region
  instance_type = var.instance_type
  ami_name      = "${var.ami_name_prefix}-${local.ami_arch}-${local.timestamp}"
  ssh_username  = "ec2-user"

  # The build instance accepts IMDSv2 only, and instances launched from the AMI
  # default to IMDSv2 only (HttpTokens=required, hop limit 2): swap-bootstrap
  # asks IMDSv2 first. packer-plugin-amazon docs, "Enforce Instance Metadata
  # Service v2" (amazon-ebs builder).
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
  imds_support = "v2.0"

  source_ami_filter {
    filters = {
      name                = var.source_ami_name
      architecture        = local.ami_arch
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = var.source_ami_owners
    most_recent = true
  }

  tags = {
    Name           = "${var.ami_name_prefix}-${local.ami_arch}"
    swap-bootstrap = var.version != "" ? var.version : "local build"
  }
}

build {
  sources = ["source.amazon-ebs.swap-bootstrap"]

  # Only with version set and no binary: fetch the release binary on this
  # machine. The build instance checks its SHA-256 before running it.
  provisioner "shell-local" {
    environment_vars = [
      "DOWNLOAD=${local.download}",
      "VERSION=${var.version}",
      "ARCH=${var.arch}",
      "PIN=${local.pin}",
      "DEST=${local.binary}",
    ]
    inline = [
      "set -eu",
      "[ \"$DOWNLOAD\" = true ] || exit 0",
      "[ -n \"$PIN\" ] || { echo \"sha256_$ARCH is empty: set it to the SHA-256 of swap-bootstrap-linux-$ARCH from the $VERSION release's SHA256SUMS\" >&2; exit 1; }",
      "url=\"https://github.com/soundhub/swap-bootstrap/releases/download/$VERSION/swap-bootstrap-linux-$ARCH\"",
      "echo \"downloading $url\" >&2",
      "curl --fail --silent --show-error --location --proto '=https' --retry 3 --output \"$DEST\" \"$url\"",
    ]
  }

  provisioner "file" {
    source      = local.binary
    destination = "/tmp/swap-bootstrap"
    # A downloaded binary exists only once the step above has run.
    generated = local.download
  }

  provisioner "shell-local" {
    environment_vars = ["DOWNLOAD=${local.download}", "DEST=${local.binary}"]
    inline           = ["if [ \"$DOWNLOAD\" = true ]; then rm -f \"$DEST\"; fi"]
  }

  provisioner "shell" {
    # Through sudo env, so the SWAP_* settings reach `install` as root.
    # BINARY_SHA256 is not a SWAP_* name, so `install` does not save it.
    environment_vars = concat(var.swap_env, ["BINARY_SHA256=${local.pin}"])
    execute_command  = "chmod +x {{ .Path }}; sudo env {{ .Vars }} bash -eu {{ .Path }}"
    inline = [
      "if [ -n \"$BINARY_SHA256\" ] && ! echo \"$BINARY_SHA256  /tmp/swap-bootstrap\" | sha256sum --check --status; then echo \"checksum mismatch: /tmp/swap-bootstrap has SHA-256 $(sha256sum /tmp/swap-bootstrap | cut -d' ' -f1), the pin is $BINARY_SHA256; nothing was installed\" >&2; rm -f /tmp/swap-bootstrap; exit 1; fi",
      # Run it from where it is installed, not from /tmp: CIS-hardened source
      # AMIs mount /tmp noexec. `install` finds itself already in place.
      "install -D -m 0755 /tmp/swap-bootstrap /usr/local/sbin/swap-bootstrap",
      "rm -f /tmp/swap-bootstrap",
      # No --now: install the binary, the unit, its settings and the
      # multi-user.target.wants link, but make no swapfile on the build instance.
      "/usr/local/sbin/swap-bootstrap install",
      "systemctl daemon-reload",
      "test \"$(systemctl is-enabled swap-bootstrap.service)\" = enabled || { echo 'swap-bootstrap.service is not enabled' >&2; exit 1; }",
      # Fail the build rather than bake a swapfile into the AMI.
      "test ! -e /var/swapfile || { echo 'a swapfile /var/swapfile would be baked into the AMI' >&2; exit 1; }",
      "test -z \"$(swapon --show=NAME,TYPE --noheadings | awk '$2 == \"file\"')\" || { echo 'a swapfile is active on the build instance:' >&2; swapon --show >&2; exit 1; }",
      "files=$(awk '$3 == \"swap\" && $1 !~ \"^(#|/dev/|UUID=|LABEL=|PARTUUID=|PARTLABEL=)\"' /etc/fstab); test -z \"$files\" || { echo \"/etc/fstab names a swapfile that would be baked into the AMI: $files\" >&2; exit 1; }",
      "/usr/local/sbin/swap-bootstrap version",
      "cat /etc/default/swap-bootstrap",
      "echo 'swap-bootstrap installed and enabled; no swapfile baked'",
    ]
  }
}
