#!/bin/sh
# certs.sh DIR: development TLS certificates, ECDSA P-256, in DIR:
#
#   ca.crt ca.key                  a private CA
#   server.crt server.key          CN=localhost, SAN DNS:localhost,
#                                  IP:127.0.0.1, IP:::1, signed by the CA
#   client.crt client.key          CN=agent1, signed by the CA (mutual TLS)
#   rogue-client.crt rogue-client.key
#                                  CN=agent1, self-signed: a client the
#                                  server must refuse when it asks for
#                                  certificates signed by ca.crt
#
# Idempotent: what exists is kept; a new CA means new certificates for the
# others. For development and tests only.
set -eu

[ $# -eq 1 ] || { echo "usage: certs.sh DIR" >&2; exit 2; }
dir=$1
mkdir -p "$dir"
cd "$dir"
umask 077

newkey() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$1" 2>/dev/null
}

serial() {
	echo "0x$(openssl rand -hex 12)"
}

# sign NAME SUBJECT EXTENSIONS: NAME.key + NAME.crt signed by the CA.
sign() {
	ext=$(mktemp)
	printf '%s\n' "$3" >"$ext"
	newkey "$1.key"
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key \
		-set_serial "$(serial)" -days 825 -sha256 \
		-extfile "$ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$ext"
}

fresh_ca=no
if [ ! -s ca.crt ] || [ ! -s ca.key ]; then
	newkey ca.key
	openssl req -new -x509 -key ca.key -sha256 -days 3650 \
		-set_serial "$(serial)" \
		-subj "/O=calldesk development/CN=calldesk dev CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" \
		-out ca.crt
	fresh_ca=yes
	echo "certs.sh: new CA in $dir/ca.crt"
fi

if [ "$fresh_ca" = yes ] || [ ! -s server.crt ] || [ ! -s server.key ]; then
	sign server "/O=calldesk development/CN=localhost" \
		"basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
authorityKeyIdentifier=keyid"
	echo "certs.sh: new server certificate in $dir/server.crt"
fi

if [ "$fresh_ca" = yes ] || [ ! -s client.crt ] || [ ! -s client.key ]; then
	sign client "/O=calldesk development/CN=agent1" \
		"basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
authorityKeyIdentifier=keyid"
	echo "certs.sh: new client certificate in $dir/client.crt"
fi

if [ ! -s rogue-client.crt ] || [ ! -s rogue-client.key ]; then
	newkey rogue-client.key
	openssl req -new -x509 -key rogue-client.key -sha256 -days 825 \
		-set_serial "$(serial)" -subj "/O=nobody/CN=agent1" \
		-addext "extendedKeyUsage=clientAuth" \
		-out rogue-client.crt
fi

# Certificates are public; keys stay readable by their owner only.
chmod 644 ca.crt server.crt client.crt rogue-client.crt
chmod 600 ca.key server.key client.key rogue-client.key
