package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The test binary carries Go build information like the release binary.
func testBinary(t *testing.T) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestArtifactContainsBinary(t *testing.T) {
	bin := testBinary(t)
	artifact := filepath.Join(t.TempDir(), "swap-bootstrap_1.2.3_amd64.deb")
	if err := os.WriteFile(artifact, []byte("not really a deb"), 0o644); err != nil {
		t.Fatal(err)
	}
	created := time.Unix(1767225600, 0).UTC()
	doc, err := build(artifact, bin, "v1.2.3", created)
	if err != nil {
		t.Fatal(err)
	}
	if doc.CreationInfo.Created != "2026-01-01T00:00:00Z" {
		t.Errorf("created %q, want SOURCE_DATE_EPOCH's time", doc.CreationInfo.Created)
	}
	a := doc.Packages[0]
	// sha256sum of the text "not really a deb".
	if want := "2aa5b79a98d53c43f7622104dfc44c321c2f09b37c457c795b86b36c7a28ad26"; a.Checksums[0].ChecksumValue != want {
		t.Errorf("artifact checksum %s, want %s", a.Checksums[0].ChecksumValue, want)
	}
	if a.PrimaryPackagePurpose != "INSTALL" || a.PackageFileName != filepath.Base(artifact) ||
		a.DownloadLocation != "https://github.com/soundhub/swap-bootstrap/releases/download/v1.2.3/swap-bootstrap_1.2.3_amd64.deb" {
		t.Errorf("artifact package: %+v", a)
	}
	if !slices.Equal(doc.DocumentDescribes, []string{"SPDXRef-Artifact"}) {
		t.Errorf("documentDescribes %v", doc.DocumentDescribes)
	}
	rels := map[Relationship]bool{}
	for _, r := range doc.Relationships {
		rels[r] = true
	}
	for _, want := range []Relationship{
		{"SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Artifact"},
		{"SPDXRef-Artifact", "CONTAINS", "SPDXRef-Package-swap-bootstrap"},
		{"SPDXRef-Package-swap-bootstrap", "DEPENDS_ON", "SPDXRef-Package-go-stdlib"},
	} {
		if !rels[want] {
			t.Errorf("missing relationship %+v", want)
		}
	}
	// Every package but the document's subject is reached by a relationship.
	for _, p := range doc.Packages[1:] {
		found := false
		for r := range rels {
			found = found || r.RelatedSPDXElement == p.SPDXID
		}
		if !found {
			t.Errorf("package %s (%s) is in no relationship", p.SPDXID, p.Name)
		}
	}
}

func TestBinaryIsArtifact(t *testing.T) {
	bin := testBinary(t)
	doc, err := build(bin, bin, "v1.2.3", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Packages[0].SPDXID != "SPDXRef-Package-swap-bootstrap" || doc.Packages[0].PackageFileName != filepath.Base(bin) {
		t.Errorf("the binary artifact is not described as the swap-bootstrap package: %+v", doc.Packages[0])
	}
	for _, r := range doc.Relationships {
		if r.RelationshipType == "CONTAINS" {
			t.Errorf("a binary contains no other artifact: %+v", r)
		}
	}
}

func TestReproducible(t *testing.T) {
	bin := testBinary(t)
	dir := t.TempDir()
	var outs [][]byte
	for i := range 2 {
		doc, err := build(bin, bin, "v1.2.3", time.Unix(1767225600, 0))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, string(rune('a'+i)))
		if err := write(p, doc); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("two documents for the same artifact differ")
	}
}

func TestErrors(t *testing.T) {
	if _, err := sourceDate(""); err == nil {
		t.Error("empty SOURCE_DATE_EPOCH accepted")
	}
	if _, err := sourceDate("yesterday"); err == nil {
		t.Error("SOURCE_DATE_EPOCH=yesterday accepted")
	}
	notGo := filepath.Join(t.TempDir(), "script")
	os.WriteFile(notGo, []byte("#!/bin/sh\n"), 0o755)
	if _, err := build(notGo, notGo, "v1", time.Unix(0, 0)); err == nil {
		t.Error("a file without Go build information accepted as the binary")
	}
}
