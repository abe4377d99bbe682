package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TrustDomain is the Consul trust domain of the SPIFFE IDs tests use.
const TrustDomain = "11111111-2222-3333-4444-555555555555.consul"

// SPIFFE returns the SPIFFE ID Consul gives service in the default namespace of dc1.
func SPIFFE(service string) string {
	return "spiffe://" + TrustDomain + "/ns/default/dc/dc1/svc/" + service
}

// Spec describes a certificate.
type Spec struct {
	// CommonName is the subject's common name.
	CommonName string
	// DNSNames, IPs and URIs are the subject alternative names.
	DNSNames []string
	IPs      []net.IP
	URIs     []string
	// CA makes a certificate authority, which may sign others; else a leaf for server
	// authentication, or client authentication with Client.
	CA     bool
	Client bool
	// NotBefore and NotAfter bound its validity; zero means an hour before and an hour
	// after now.
	NotBefore, NotAfter time.Time
	// Serial is its serial number; 0 means a number no other certificate of the
	// process has.
	Serial int64
}

// Cert is a certificate, its key and their PEM forms.
type Cert struct {
	// Cert is the parsed certificate and DER its encoding.
	Cert *x509.Certificate
	DER  []byte
	// Key is its private key.
	Key *ecdsa.PrivateKey
	// CertPEM and KeyPEM are the PEM forms ("CERTIFICATE", "EC PRIVATE KEY").
	CertPEM, KeyPEM []byte
}

var serials atomic.Int64

// New returns a certificate made as spec says, signed by issuer, or by itself when
// issuer is nil.
func New(tb testing.TB, spec Spec, issuer *Cert) *Cert {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("testpki: key: %v", err)
	}
	tmpl := template(tb, spec)
	parent, signer := tmpl, key
	if issuer != nil {
		parent, signer = issuer.Cert, issuer.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		tb.Fatalf("testpki: certificate %q: %v", spec.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("testpki: parse %q: %v", spec.CommonName, err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatalf("testpki: key of %q: %v", spec.CommonName, err)
	}
	return &Cert{
		Cert: cert, DER: der, Key: key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
	}
}

// template is the x509 template of spec.
func template(tb testing.TB, spec Spec) *x509.Certificate {
	tb.Helper()
	serial := spec.Serial
	if serial == 0 {
		serial = 1<<32 + serials.Add(1)
	}
	notBefore, notAfter := spec.NotBefore, spec.NotAfter
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Hour)
	}
	if notAfter.IsZero() {
		notAfter = time.Now().Add(time.Hour)
	}
	t := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: spec.CommonName},
		DNSNames: spec.DNSNames, IPAddresses: spec.IPs, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	switch {
	case spec.CA:
		t.IsCA, t.BasicConstraintsValid = true, true
		t.KeyUsage |= x509.KeyUsageCertSign
	case spec.Client:
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	for _, u := range spec.URIs {
		parsed, err := url.Parse(u)
		if err != nil {
			tb.Fatalf("testpki: URI %q: %v", u, err)
		}
		t.URIs = append(t.URIs, parsed)
	}
	return t
}

// Pair returns c as a tls.Certificate.
func (c *Cert) Pair() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.DER}, PrivateKey: c.Key, Leaf: c.Cert}
}

// Pool returns a pool holding c alone, to trust it as a root.
func (c *Cert) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// WriteFiles writes c's PEM forms to dir/name.pem and dir/name-key.pem and returns
// their paths.
func (c *Cert) WriteFiles(tb testing.TB, dir, name string) (certFile, keyFile string) {
	tb.Helper()
	return WriteFile(tb, dir, name+".pem", c.CertPEM), WriteFile(tb, dir, name+"-key.pem", c.KeyPEM)
}

// WriteFile writes data to dir/name, replacing any file there at once (a rename), as
// certificate tools do, and returns its path.
func WriteFile(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		tb.Fatalf("testpki: %v", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		tb.Fatalf("testpki: %v", err)
	}
	return p
}
