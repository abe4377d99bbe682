package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/peeringgw/peeringgw/xds"
)

// bootstrapSecurityFlags are bootstrap's flags for TLS to the xDS server and the token.
type bootstrapSecurityFlags struct {
	caFile, certFile, keyFile, serverName string
	token, tokenFile                      string
}

func (f *bootstrapSecurityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.caFile, "grpc-ca-file", "", "PEM `file` of the CAs that sign the xDS server's certificate: connect with TLS (inlined in the bootstrap)")
	fs.StringVar(&f.certFile, "grpc-client-cert-file", "", "PEM `file` of Envoy's client certificate for the xDS server (read by Envoy at start)")
	fs.StringVar(&f.keyFile, "grpc-client-key-file", "", "PEM `file` of Envoy's client key for the xDS server (read by Envoy at start)")
	fs.StringVar(&f.serverName, "grpc-tls-server-name", "", "`name` sent as SNI and required among the xDS server certificate's DNS SANs; by default neither")
	fs.StringVar(&f.token, "token", "", "Consul ACL `token` sent to the xDS server as x-consul-token (default $CONSUL_HTTP_TOKEN)")
	fs.StringVar(&f.tokenFile, "token-file", "", "`file` holding the ACL token; wins over -token (default $CONSUL_HTTP_TOKEN_FILE)")
}

// bootstrapTLS is TLS from Envoy to the xDS server; the zero value is plaintext.
type bootstrapTLS struct {
	caPEM, certFile, keyFile, serverName string
}

// resolve checks the flags, reads the CA file and the token, with the consul CLI's
// precedence: -token-file, -token, $CONSUL_HTTP_TOKEN_FILE, $CONSUL_HTTP_TOKEN.
func (f *bootstrapSecurityFlags) resolve(fs *flag.FlagSet, getenv func(string) string) (bootstrapTLS, string, error) {
	var t bootstrapTLS
	if (f.certFile == "") != (f.keyFile == "") {
		return t, "", usagef(fs, "-grpc-client-cert-file and -grpc-client-key-file go together")
	}
	if (f.certFile != "" || f.serverName != "") && f.caFile == "" {
		return t, "", usagef(fs, "-grpc-client-cert-file and -grpc-tls-server-name need -grpc-ca-file")
	}
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return t, "", fmt.Errorf("-grpc-ca-file: %w", err)
		}
		if !bytes.Contains(pem, []byte("-----BEGIN CERTIFICATE-----")) {
			return t, "", fmt.Errorf("-grpc-ca-file: no PEM certificate in %s", f.caFile)
		}
		t = bootstrapTLS{caPEM: string(pem), certFile: f.certFile, keyFile: f.keyFile, serverName: f.serverName}
	}
	token, err := f.readToken(getenv)
	return t, token, err
}

func (f *bootstrapSecurityFlags) readToken(getenv func(string) string) (string, error) {
	file, token := f.tokenFile, f.token
	if file == "" && token == "" {
		file, token = getenv("CONSUL_HTTP_TOKEN_FILE"), getenv("CONSUL_HTTP_TOKEN")
	}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("token file: %w", err)
		}
		token = strings.TrimSpace(string(raw))
	}
	return token, nil
}

// tokenMetadata is the x-consul-token header of the xDS gRPC service, if any.
func tokenMetadata(token string) []*corev3.HeaderValue {
	if token == "" {
		return nil
	}
	return []*corev3.HeaderValue{{Key: xds.ConsulTokenHeader, Value: token}}
}

// transportSocket is the xDS cluster's TLS, or nil for plaintext.
func (t bootstrapTLS) transportSocket() (*corev3.TransportSocket, error) {
	if t.caPEM == "" {
		return nil, nil
	}
	validation := &tlsv3.CertificateValidationContext{
		TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: t.caPEM}},
	}
	if t.serverName != "" {
		validation.MatchTypedSubjectAltNames = []*tlsv3.SubjectAltNameMatcher{{
			SanType: tlsv3.SubjectAltNameMatcher_DNS,
			Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: t.serverName}},
		}}
	}
	ctx := &tlsv3.UpstreamTlsContext{
		Sni: t.serverName,
		CommonTlsContext: &tlsv3.CommonTlsContext{
			AlpnProtocols:         []string{"h2"},
			ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: validation},
		},
	}
	if t.certFile != "" {
		ctx.CommonTlsContext.TlsCertificates = []*tlsv3.TlsCertificate{{
			CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: t.certFile}},
			PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: t.keyFile}},
		}}
	}
	typed, err := anypb.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("xds cluster TLS: %w", err)
	}
	return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: typed}}, nil
}
