package swap

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
)

// EC2 names its NVMe instance-store disks by their model: udev links them as
// /dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_<serial>
// (https://docs.aws.amazon.com/ebs/latest/userguide/nvme-ebs-volumes.html;
// EBS volumes are "Amazon Elastic Block Store"). Instance storage is local to
// the host and blank after every stop, so swap on it is re-made at every boot.
const (
	byIDDir             = "/dev/disk/by-id"
	instanceStorePrefix = "nvme-Amazon_EC2_NVMe_Instance_Storage_"
	procMountinfo       = "/proc/self/mountinfo"
	// edgeBytes are read at each end of a disk: partition tables, filesystem,
	// RAID and LVM signatures all live there (md 0.90/1.0 and GPT's backup at
	// the end).
	edgeBytes = 1 << 20
)

// Disk is an NVMe instance-store disk.
type Disk struct {
	Path string `json:"path"`  // /dev/nvme1n1
	ByID string `json:"by_id"` // its /dev/disk/by-id name
	Size int64  `json:"size_bytes"`
	// Ours: it carries swap-bootstrap's swap header (the machine rebooted
	// without a stop, so the disk kept it).
	Ours   bool  `json:"ours"`
	Active *Area `json:"active,omitempty"`
	// InUse says why the disk is not free for swap; "" when it is.
	InUse string `json:"in_use,omitempty"`
}

// observeInstanceStore finds the instance-store disks and whether each is
// free: nothing mounted, held, partitioned or written on it, except a swap
// area of ours.
func observeInstanceStore(sys System, areas []Area) ([]Disk, error) {
	entries, err := sys.ReadDir(byIDDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", byIDDir, err)
	}
	mountinfo, _ := sys.ReadFile(procMountinfo)
	seen := map[string]bool{}
	var disks []Disk
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, instanceStorePrefix) || strings.Contains(name, "-part") {
			continue
		}
		path, err := sys.Resolve(filepath.Join(byIDDir, name))
		if err != nil || seen[path] {
			continue
		}
		seen[path] = true
		d := Disk{Path: path, ByID: filepath.Join(byIDDir, name)}
		if a, ok := FindArea(areas, path); ok {
			d.Active = &a
		}
		d.InUse = diskInUse(sys, &d, mountinfo)
		disks = append(disks, d)
	}
	return disks, nil
}

// diskInUse fills in the disk's size and whether it is ours, and says why it
// may not be used, or "".
func diskInUse(sys System, d *Disk, mountinfo []byte) string {
	block := filepath.Join("/sys/class/block", filepath.Base(d.Path))
	b, err := sys.ReadFile(block + "/size")
	sectors, perr := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || perr != nil || sectors <= 0 {
		return "its size is unknown (" + block + "/size)"
	}
	d.Size = sectors * 512 // the kernel counts 512-byte sectors here, whatever the disk's
	if entries, err := sys.ReadDir(block + "/holders"); err == nil && len(entries) > 0 {
		return "it is held by " + entries[0].Name() + " (RAID, LVM or device-mapper)"
	}
	if entries, err := sys.ReadDir(block); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), filepath.Base(d.Path)+"p") {
				return "it has partitions (" + e.Name() + ")"
			}
		}
	}
	if dev, err := sys.ReadFile(block + "/dev"); err == nil {
		if at := mountedAt(mountinfo, strings.TrimSpace(string(dev))); at != "" {
			return "it is mounted at " + at
		}
	}
	if d.Active != nil {
		return "" // active swap: ours or not, left as it is
	}
	head, err := sys.ReadAt(d.Path, 0, edgeBytes)
	if err != nil {
		return fmt.Sprintf("it could not be read (%v)", err)
	}
	if h, ok := ParseHeader(head); ok && h.Label == defaultLabel {
		d.Ours = true
		return ""
	}
	if !allZero(head) {
		return "it has data at its start (a partition table, filesystem, RAID, LVM or swap signature)"
	}
	tail, err := sys.ReadAt(d.Path, max(d.Size-edgeBytes, 0), edgeBytes)
	if err != nil {
		return fmt.Sprintf("it could not be read (%v)", err)
	}
	if !allZero(tail) {
		return "it has data at its end (a RAID superblock or a GPT backup)"
	}
	return ""
}

// mountedAt returns where the device major:minor dev is mounted, from
// /proc/self/mountinfo (its third field), or "".
func mountedAt(mountinfo []byte, dev string) string {
	for _, l := range strings.Split(string(mountinfo), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && f[2] == dev {
			return unescapeOctal(f[4])
		}
	}
	return ""
}

func allZero(b []byte) bool { return len(bytes.Trim(b, "\x00")) == 0 }

// devicePriority puts instance-store swap ahead of the EBS swapfile: above
// SWAP_PRIORITY when that is set, else 10 (the kernel gives swap without a
// priority negative ones).
func devicePriority(filePriority int) int {
	if filePriority >= 10 {
		return min(filePriority+1, 32767)
	}
	return 10
}

// planInstanceStore makes each free instance-store disk swap, or enables one
// of ours that kept its header, at devicePriority; a disk with anything on it
// is never touched.
func planInstanceStore(p *Plan, s Settings, o Observation) {
	if !s.InstanceStore {
		return
	}
	if len(o.Disks) == 0 {
		p.Notes = append(p.Notes, "no NVMe instance-store disk on this instance ("+byIDDir+"/"+instanceStorePrefix+"*)")
	}
	prio := devicePriority(s.Priority)
	for _, d := range o.Disks {
		switch {
		case d.InUse != "":
			p.Notes = append(p.Notes, fmt.Sprintf("instance store %s left alone: %s", d.Path, d.InUse))
		case d.Active != nil:
			p.Notes = append(p.Notes, fmt.Sprintf("instance store %s is swap already (priority %d)", d.Path, d.Active.Priority))
		case d.Ours:
			p.Actions = append(p.Actions, Action{Kind: ActionDevice, Path: d.Path, Size: d.Size, Value: prio,
				Reason: "instance store with swap-bootstrap's swap header (a reboot): enable it ahead of the swapfile"})
		default:
			p.Actions = append(p.Actions, Action{Kind: ActionDevice, Path: d.Path, Size: d.Size, Value: prio, Format: true,
				Reason: "free NVMe instance store (" + d.ByID + "): swap there ahead of the EBS swapfile"})
		}
	}
}
