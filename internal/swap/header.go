package swap

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// Header is a Linux swap area signature (SWAPSPACE2, version 1), the format
// mkswap writes and swapon(2) reads: union swap_header in include/linux/swap.h.
type Header struct {
	PageSize int64    // the page size it was made for; the magic sits at its end
	LastPage uint32   // index of the last usable page
	UUID     [16]byte // random (version 4)
	Label    string   // at most 16 bytes
}

const (
	swapMagic    = "SWAPSPACE2"
	hdrVersion   = 1024 // offsets inside the first page
	hdrLastPage  = 1028
	hdrBadPages  = 1032
	hdrUUID      = 1036
	hdrLabel     = 1052
	labelMax     = 16
	defaultLabel = "swap-bootstrap"
)

// PageSizes are the page sizes a header is looked for at: x86_64 uses 4 KiB,
// arm64 kernels 4, 16 or 64 KiB.
var PageSizes = []int64{4096, 16384, 65536}

// NewHeader describes a swap area of size bytes for pages of pageSize, with a
// random UUID.
func NewHeader(size, pageSize int64) (Header, error) {
	pages := size / pageSize
	if pages < 10 {
		return Header{}, fmt.Errorf("swap area of %d bytes is below the minimum of 10 pages of %d bytes", size, pageSize)
	}
	if pages-1 > int64(^uint32(0)) {
		return Header{}, fmt.Errorf("swap area of %d bytes has more pages than the header can count", size)
	}
	h := Header{PageSize: pageSize, LastPage: uint32(pages - 1), Label: defaultLabel}
	if _, err := rand.Read(h.UUID[:]); err != nil {
		return Header{}, err
	}
	h.UUID[6] = h.UUID[6]&0x0f | 0x40 // version 4
	h.UUID[8] = h.UUID[8]&0x3f | 0x80 // RFC 4122 variant
	return h, nil
}

// Marshal returns the first page of the swap area.
func (h Header) Marshal() []byte {
	p := make([]byte, h.PageSize)
	binary.NativeEndian.PutUint32(p[hdrVersion:], 1)
	binary.NativeEndian.PutUint32(p[hdrLastPage:], h.LastPage)
	binary.NativeEndian.PutUint32(p[hdrBadPages:], 0)
	copy(p[hdrUUID:], h.UUID[:])
	copy(p[hdrLabel:hdrLabel+labelMax], h.Label)
	copy(p[h.PageSize-int64(len(swapMagic)):], swapMagic)
	return p
}

// Size is the swap area size the header describes.
func (h Header) Size() int64 { return (int64(h.LastPage) + 1) * h.PageSize }

// UUIDString formats the UUID as blkid prints it.
func (h Header) UUIDString() string {
	u := h.UUID
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// ParseHeader looks for a SWAPSPACE2 signature for each page size in b (the
// first bytes of a file, at least 64 KiB when available). ok is false when b
// is not a swap area.
func ParseHeader(b []byte) (h Header, ok bool) {
	for _, ps := range PageSizes {
		if int64(len(b)) < ps || string(b[ps-int64(len(swapMagic)):ps]) != swapMagic {
			continue
		}
		h = Header{PageSize: ps, LastPage: binary.NativeEndian.Uint32(b[hdrLastPage:])}
		copy(h.UUID[:], b[hdrUUID:])
		h.Label = string(bytes.TrimRight(b[hdrLabel:hdrLabel+labelMax], "\x00"))
		return h, binary.NativeEndian.Uint32(b[hdrVersion:]) == 1
	}
	return Header{}, false
}
