# An AMI with swap-bootstrap baked in: the binary and its enabled systemd unit,
# but no swapfile. Each instance launched from the AMI makes its own swapfile
# at its first boot, before Docker starts, sized for its own instance type.
# A swapfile baked into the AMI would be sized for the build instance, copied
# into every snapshot, and slow to read back on first touch.
#
#   scripts/build.sh
#   packer init scripts/packer
#   packer build -var region=eu-west-1 scripts/packer
#   packer build -var arch=arm64 -var instance_type=t4g.small scripts/packer
#
# To add swap-bootstrap to your own template, copy the two provisioners.

packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
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

variable "binary" {
  type        = string
  default     = ""
  description = "Local path of the swap-bootstrap binary to bake in. Empty: dist/swap-bootstrap-linux-<arch>, as scripts/build.sh writes it."
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
  ami_arch  = var.arch == "arm64" ? "arm64" : "x86_64"
  binary    = var.binary != "" ? var.binary : "dist/swap-bootstrap-linux-${var.arch}"
  timestamp = formatdate("YYYYMMDDhhmmss", timestamp())
}

source "amazon-ebs" "swap-bootstrap" {
  region        = var.region
  instance_type = var.instance_type
  ami_name      = "${var.ami_name_prefix}-${local.ami_arch}-${local.timestamp}"
  ssh_username  = "ec2-user"

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
    swap-bootstrap = "baked"
  }
}

build {
  sources = ["source.amazon-ebs.swap-bootstrap"]

  provisioner "file" {
    source      = local.binary
    destination = "/tmp/swap-bootstrap"
  }

  provisioner "shell" {
    # Through sudo env, so the SWAP_* settings reach `install` as root.
    environment_vars = var.swap_env
    execute_command  = "chmod +x {{ .Path }}; sudo env {{ .Vars }} bash -eu {{ .Path }}"
    inline = [
      "chmod 0755 /tmp/swap-bootstrap",
      # No --now: install the binary, the unit, its settings and the
      # multi-user.target.wants link, but make no swapfile on the build instance.
      "/tmp/swap-bootstrap install",
      "rm -f /tmp/swap-bootstrap",
      "systemctl daemon-reload",
      "test \"$(systemctl is-enabled swap-bootstrap.service)\" = enabled || { echo 'swap-bootstrap.service is not enabled' >&2; exit 1; }",
      # Fail the build rather than bake a swapfile into the AMI.
      "test ! -e /var/swapfile || { echo 'a swapfile /var/swapfile would be baked into the AMI' >&2; exit 1; }",
      "test -z \"$(swapon --show=NAME,TYPE --noheadings | awk '$2 == \"file\"')\" || { echo 'a swapfile is active on the build instance:' >&2; swapon --show >&2; exit 1; }",
      "files=$(awk '$3 == \"swap\" && $1 !~ \"^(#|/dev/|UUID=|LABEL=|PARTUUID=|PARTLABEL=)\"' /etc/fstab); test -z \"$files\" || { echo \"/etc/fstab names a swapfile that would be baked into the AMI: $files\" >&2; exit 1; }",
      "cat /etc/default/swap-bootstrap",
      "echo 'swap-bootstrap installed and enabled; no swapfile baked'",
    ]
  }
}
