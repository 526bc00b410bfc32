// Command sbom writes the SPDX 2.3 JSON software bill of materials of one
// swap-bootstrap release artifact: the artifact (a binary, a .tar.gz, a .deb
// or an .rpm) with its SHA-256, the swap-bootstrap binary it contains, and
// every Go module and the Go standard library compiled into that binary, as
// the Go toolchain recorded them in the binary (debug/buildinfo, the same
// record `go version -m` prints).
//
//	SOURCE_DATE_EPOCH=1767225600 go run ./tools/sbom -binary dist/swap-bootstrap-linux-amd64 \
//	    -version v1.2.3 -out dist/swap-bootstrap_1.2.3_amd64.deb.spdx.json dist/swap-bootstrap_1.2.3_amd64.deb
//
// The document is reproducible: its creation time is SOURCE_DATE_EPOCH and
// its namespace is made of the artifact's name and SHA-256, so the same
// artifact always gets the same bytes. test/release/check.sh checks that the
// binary inside each archive and package is the one given with -binary.
package main

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Repository is where releases are published; download locations and the
// document namespace are under it.
const Repository = "https://github.com/soundhub/swap-bootstrap"

// swapBootstrapLicense is the license of swap-bootstrap's own code.
const swapBootstrapLicense = "Apache-2.0"

func main() {
	bin := flag.String("binary", "", "the swap-bootstrap binary the artifact is or contains")
	version := flag.String("version", "", "the release version, e.g. v1.2.3")
	out := flag.String("out", "", "file to write the SPDX JSON document to")
	flag.Parse()
	if *bin == "" || *version == "" || *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: SOURCE_DATE_EPOCH=SECONDS go run ./tools/sbom -binary BIN -version VERSION -out FILE ARTIFACT")
		os.Exit(2)
	}
	created, err := sourceDate(os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "sbom: %v\n", err)
		os.Exit(2)
	}
	doc, err := build(flag.Arg(0), *bin, *version, created)
	if err == nil {
		err = write(*out, doc)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sbom: %v\n", err)
		os.Exit(1)
	}
}

// sourceDate reads SOURCE_DATE_EPOCH (reproducible-builds.org): the
// document's creation time must not depend on when it was built.
func sourceDate(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, errors.New("SOURCE_DATE_EPOCH is not set; set it to the release commit's time (git log -1 --format=%ct)")
	}
	s, err := strconv.ParseInt(v, 10, 64)
	if err != nil || s < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: not a number of seconds since 1970", v)
	}
	return time.Unix(s, 0).UTC(), nil
}

// Document is the subset of an SPDX 2.3 document this tool writes
// (https://spdx.github.io/spdx-spec/v2.3/).
type Document struct {
	SPDXVersion       string         `json:"spdxVersion"`
	DataLicense       string         `json:"dataLicense"`
	SPDXID            string         `json:"SPDXID"`
	Name              string         `json:"name"`
	DocumentNamespace string         `json:"documentNamespace"`
	CreationInfo      CreationInfo   `json:"creationInfo"`
	DocumentDescribes []string       `json:"documentDescribes"`
	Packages          []Package      `json:"packages"`
	Relationships     []Relationship `json:"relationships"`
}

type CreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type Package struct {
	SPDXID                string        `json:"SPDXID"`
	Name                  string        `json:"name"`
	VersionInfo           string        `json:"versionInfo,omitempty"`
	PackageFileName       string        `json:"packageFileName,omitempty"`
	Supplier              string        `json:"supplier,omitempty"`
	DownloadLocation      string        `json:"downloadLocation"`
	FilesAnalyzed         bool          `json:"filesAnalyzed"`
	Checksums             []Checksum    `json:"checksums,omitempty"`
	Homepage              string        `json:"homepage,omitempty"`
	LicenseConcluded      string        `json:"licenseConcluded"`
	LicenseDeclared       string        `json:"licenseDeclared"`
	CopyrightText         string        `json:"copyrightText"`
	Comment               string        `json:"comment,omitempty"`
	ExternalRefs          []ExternalRef `json:"externalRefs,omitempty"`
	PrimaryPackagePurpose string        `json:"primaryPackagePurpose,omitempty"`
}

type Checksum struct {
	Algorithm     string `json:"algorithm"`
	ChecksumValue string `json:"checksumValue"`
}

type ExternalRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

type Relationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

const noAssertion = "NOASSERTION"

// build describes artifact, which is the binary bin or contains it.
func build(artifact, bin, version string, created time.Time) (*Document, error) {
	artifactSum, err := fileSHA256(artifact)
	if err != nil {
		return nil, err
	}
	binSum, err := fileSHA256(bin)
	if err != nil {
		return nil, err
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("%s: no Go build information (%w); pass the swap-bootstrap binary with -binary", bin, err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	name := filepath.Base(artifact)
	download := Repository + "/releases/download/" + url.PathEscape(version) + "/" + url.PathEscape(name)

	binPkg := Package{
		SPDXID:           "SPDXRef-Package-swap-bootstrap",
		Name:             "swap-bootstrap",
		VersionInfo:      version,
		Supplier:         "Organization: soundhub",
		DownloadLocation: Repository,
		Checksums:        []Checksum{{"SHA256", binSum}},
		Homepage:         Repository,
		LicenseConcluded: noAssertion,
		LicenseDeclared:  swapBootstrapLicense,
		CopyrightText:    noAssertion,
		Comment:          buildComment(info, settings),
		ExternalRefs: []ExternalRef{purl("pkg:golang/" + info.Main.Path + "@" + version +
			"?goos=" + settings["GOOS"] + "&goarch=" + settings["GOARCH"])},
		PrimaryPackagePurpose: "APPLICATION",
	}
	doc := &Document{
		SPDXVersion:       "SPDX-2.3",
		DataLicense:       "CC0-1.0",
		SPDXID:            "SPDXRef-DOCUMENT",
		Name:              name,
		DocumentNamespace: Repository + "/spdx/" + url.PathEscape(name) + "-" + artifactSum,
		CreationInfo: CreationInfo{
			Created:  created.Format(time.RFC3339),
			Creators: []string{"Organization: soundhub", "Tool: swap-bootstrap-tools-sbom"},
		},
	}

	top := binPkg.SPDXID
	if artifactSum == binSum {
		// The artifact is the binary itself.
		binPkg.PackageFileName = name
		binPkg.DownloadLocation = download
		doc.Packages = append(doc.Packages, binPkg)
	} else {
		top = "SPDXRef-Artifact"
		doc.Packages = append(doc.Packages, Package{
			SPDXID:                top,
			Name:                  name,
			VersionInfo:           version,
			PackageFileName:       name,
			Supplier:              "Organization: soundhub",
			DownloadLocation:      download,
			Checksums:             []Checksum{{"SHA256", artifactSum}},
			Homepage:              Repository,
			LicenseConcluded:      noAssertion,
			LicenseDeclared:       swapBootstrapLicense,
			CopyrightText:         noAssertion,
			PrimaryPackagePurpose: purpose(name),
		}, binPkg)
		doc.Relationships = append(doc.Relationships, Relationship{top, "CONTAINS", binPkg.SPDXID})
	}
	doc.DocumentDescribes = []string{top}
	doc.Relationships = append([]Relationship{{"SPDXRef-DOCUMENT", "DESCRIBES", top}}, doc.Relationships...)

	// The Go standard library and runtime are compiled in as well.
	goVersion := strings.TrimPrefix(info.GoVersion, "go")
	std := Package{
		SPDXID:                "SPDXRef-Package-go-stdlib",
		Name:                  "stdlib",
		VersionInfo:           info.GoVersion,
		Supplier:              "Organization: The Go Authors",
		DownloadLocation:      "https://go.dev/dl/",
		LicenseConcluded:      noAssertion,
		LicenseDeclared:       "BSD-3-Clause",
		CopyrightText:         noAssertion,
		ExternalRefs:          []ExternalRef{purl("pkg:golang/stdlib@" + goVersion)},
		PrimaryPackagePurpose: "LIBRARY",
	}
	doc.Packages = append(doc.Packages, std)
	doc.Relationships = append(doc.Relationships, Relationship{binPkg.SPDXID, "DEPENDS_ON", std.SPDXID})

	for i, m := range info.Deps {
		if m.Replace != nil {
			m = m.Replace
		}
		p := Package{
			SPDXID:                "SPDXRef-Package-go-module-" + strconv.Itoa(i+1),
			Name:                  m.Path,
			VersionInfo:           m.Version,
			DownloadLocation:      noAssertion,
			LicenseConcluded:      noAssertion,
			LicenseDeclared:       noAssertion,
			CopyrightText:         noAssertion,
			ExternalRefs:          []ExternalRef{purl("pkg:golang/" + m.Path + "@" + m.Version)},
			PrimaryPackagePurpose: "LIBRARY",
		}
		if m.Sum != "" {
			// go.sum's h1: hash is over the module's file tree, not over a
			// file SPDX could name, so it goes in the comment, not checksums.
			p.Comment = "go.sum hash " + m.Sum
		}
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, Relationship{binPkg.SPDXID, "DEPENDS_ON", p.SPDXID})
	}
	return doc, nil
}

// buildComment records how the binary was built, from its build settings.
func buildComment(info *buildinfo.BuildInfo, settings map[string]string) string {
	var parts []string
	parts = append(parts, "built with "+info.GoVersion)
	for _, k := range []string{"GOOS", "GOARCH", "CGO_ENABLED", "-trimpath", "-ldflags", "vcs.revision", "vcs.time", "vcs.modified"} {
		if v, ok := settings[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, "; ")
}

// purpose is the SPDX primary package purpose of a release artifact.
func purpose(name string) string {
	switch {
	case strings.HasSuffix(name, ".deb"), strings.HasSuffix(name, ".rpm"):
		return "INSTALL"
	case strings.HasSuffix(name, ".tar.gz"):
		return "ARCHIVE"
	}
	return "FILE"
}

func purl(locator string) ExternalRef {
	return ExternalRef{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: locator}
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func write(p string, doc *Document) error {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(p, append(b, '\n'), 0o644)
}
