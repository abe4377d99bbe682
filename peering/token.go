package peering

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrBadToken is wrapped by every error [DecodeToken] returns.
var ErrBadToken = errors.New("peering: bad peering token")

// Secret is a value that must never be shown: its String, GoString, Format and JSON forms
// are redacted. [Secret.Reveal] returns the value itself.
type Secret string

const redacted = "[redacted]"

// String returns "[redacted]" (or "" for an empty secret).
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns the redacted form, so %#v does not leak the secret either.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Format redacts the secret for every fmt verb.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(s.String()))
}

// MarshalJSON writes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// Token is a decoded peering token, as the accepting cluster generates it
// (POST /v1/peering/token). Its fields mirror Consul's token JSON.
type Token struct {
	// CA holds the accepting cluster's CA certificates, PEM encoded.
	CA []string
	// ManualServerAddresses are the addresses given as ServerExternalAddresses when the
	// token was generated; the dialer prefers them.
	ManualServerAddresses []string
	// ServerAddresses are where the dialer connects: the accepting cluster's mesh
	// gateways' WAN addresses when it peers through mesh gateways, else its servers.
	ServerAddresses []string
	// ServerName is the accepting servers' TLS name, "server.<dc>.peering.<trust-domain>".
	ServerName string
	// PeerID is the accepting cluster's ID for this peering.
	PeerID string
	// EstablishmentSecret is single-use proof of the token; never printed.
	EstablishmentSecret Secret
	// Remote describes the accepting cluster.
	Remote TokenRemote
}

// TokenRemote describes the cluster that generated a token.
type TokenRemote struct {
	Partition  string `json:",omitempty"`
	Datacenter string `json:",omitempty"`
}

// tokenJSON is the wire form; it differs from Token only in the secret's type, so that
// decoding reads the secret while encoding Token never writes it.
type tokenJSON struct {
	CA                    []string
	ManualServerAddresses []string
	ServerAddresses       []string
	ServerName            string
	PeerID                string
	EstablishmentSecret   string
	Remote                TokenRemote
}

// DecodeToken decodes a peering token: standard base64 of a JSON object. Surrounding
// white space is ignored. The error wraps [ErrBadToken] and never contains the token.
func DecodeToken(token string) (*Token, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil {
		return nil, fmt.Errorf("%w: not base64: %w", ErrBadToken, err)
	}
	var w tokenJSON
	if err := json.Unmarshal(raw, &w); err != nil { // as Consul reads it: nothing may follow the object
		return nil, fmt.Errorf("%w: not a JSON object: %s", ErrBadToken, jsonErrorKind(err))
	}
	if w.ServerName == "" {
		return nil, fmt.Errorf("%w: no ServerName", ErrBadToken)
	}
	if len(w.ServerAddresses) == 0 && len(w.ManualServerAddresses) == 0 {
		return nil, fmt.Errorf("%w: no server addresses", ErrBadToken)
	}
	return &Token{
		CA:                    w.CA,
		ManualServerAddresses: w.ManualServerAddresses,
		ServerAddresses:       w.ServerAddresses,
		ServerName:            w.ServerName,
		PeerID:                w.PeerID,
		EstablishmentSecret:   Secret(w.EstablishmentSecret),
		Remote:                w.Remote,
	}, nil
}

// jsonErrorKind describes a decode error without quoting the input, which may hold the
// secret.
func jsonErrorKind(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %s has the wrong type", typ.Field)
	default:
		return "malformed"
	}
}

// Addresses returns the addresses a dialer connects to: the manual ones when set,
// otherwise ServerAddresses.
func (t *Token) Addresses() []string {
	if len(t.ManualServerAddresses) > 0 {
		return t.ManualServerAddresses
	}
	return t.ServerAddresses
}

// Certificate summarises one CA certificate of a token.
type Certificate struct {
	Subject   string
	Issuer    string
	NotBefore time.Time
	NotAfter  time.Time
	// URIs are the certificate's URI SANs (Consul's CA sets spiffe://<trust-domain>).
	URIs []string
}

// Certificates parses the token's CA certificates. An entry without a PEM block, or a
// PEM block that is not a valid certificate, gives an error naming its position.
func (t *Token) Certificates() ([]Certificate, error) {
	var out []Certificate
	for i, p := range t.CA {
		rest := []byte(p)
		if block, _ := pem.Decode(rest); block == nil {
			return out, fmt.Errorf("%w: CA[%d]: no PEM block", ErrBadToken, i)
		}
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return out, fmt.Errorf("%w: CA[%d]: %w", ErrBadToken, i, err)
			}
			cert := Certificate{Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter}
			for _, u := range c.URIs {
				cert.URIs = append(cert.URIs, u.String())
			}
			out = append(out, cert)
		}
	}
	return out, nil
}
