// An independent verifier for the tests: Go's crypto/x509 and crypto/tls (strict by default).
// Verifies the server certificate for each name, the client certificate for client auth, then
// completes a mutual-TLS handshake on 127.0.0.1 with both. Exit 1 on the first failure.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

func fail(format string, args ...any) {
	fmt.Printf("FAIL "+format+"\n", args...)
	os.Exit(1)
}

func loadCert(path string) *x509.Certificate {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("read %s: %v", path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		fail("%s: no PEM block", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		fail("parse %s: %v", path, err)
	}
	return cert
}

func main() {
	caPath := flag.String("ca", "ca.pem", "CA certificate")
	serverCert := flag.String("server-cert", "server.pem", "server certificate")
	serverKey := flag.String("server-key", "server.key", "server key")
	clientCert := flag.String("client-cert", "client.pem", "client certificate")
	clientKey := flag.String("client-key", "client-key.pem", "client key")
	names := flag.String("names", "localhost", "comma-separated names and IPs the server must be valid for")
	flag.Parse()

	pool := x509.NewCertPool()
	pool.AddCert(loadCert(*caPath))
	server := loadCert(*serverCert)
	client := loadCert(*clientCert)
	for _, name := range strings.Split(*names, ",") {
		_, err := server.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			fail("server certificate for %s: %v", name, err)
		}
		fmt.Printf("ok server certificate valid for %s\n", name)
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		fail("client certificate: %v", err)
	}
	fmt.Println("ok client certificate valid for client auth")

	serverPair, err := tls.LoadX509KeyPair(*serverCert, *serverKey)
	if err != nil {
		fail("server key pair: %v", err)
	}
	clientPair, err := tls.LoadX509KeyPair(*clientCert, *clientKey)
	if err != nil {
		fail("client key pair: %v", err)
	}
	listener, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{serverPair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
		MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		fail("listen: %v", err)
	}
	defer listener.Close()
	go func() {
		conn, err := listener.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.Copy(conn, io.LimitReader(conn, 4))
	}()
	name := strings.Split(*names, ",")[0]
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", listener.Addr().String(), &tls.Config{
		RootCAs: pool, ServerName: name, Certificates: []tls.Certificate{clientPair}, MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		fail("mutual TLS handshake as %s: %v", name, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("ping")); err != nil {
		fail("write: %v", err)
	}
	echo := make([]byte, 4)
	if _, err := io.ReadFull(conn, echo); err != nil || string(echo) != "ping" {
		fail("echo after handshake: %v", err)
	}
	fmt.Printf("ok mutual TLS handshake (version 0x%04x) as %s\n", conn.ConnectionState().Version, name)
}
