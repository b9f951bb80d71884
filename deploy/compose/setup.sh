#!/usr/bin/env bash
# setup.sh runs once, in the es-gencert-cli init container of compose.yaml, before
# anything else starts. Idempotent: it keeps what an earlier run generated.
#
#   /certs/ca/ca.crt, ca.key            the cluster's private certificate authority
#   /certs/kurrentdbN/node.crt, .key    one node certificate per KurrentDB node
#   /ca/ca.crt                          a copy of the CA certificate only, for clients
#   /jwt/jwt.key                        the HMAC key the services verify tokens with
#   /national-id/national-id.key        the registry's key for hashing national ID numbers
#   /personal-keys/                     the registry's keyring (per-craftsman keys sealing
#                                       personal data), owned by the services' user, mode 0700
#
# KurrentDB's image runs as KURRENTDB_UID (1001 since 26.x; 1000 before), our
# distroless images as 65532: each gets only what it reads.
set -euo pipefail
nodes=(kurrentdb1 kurrentdb2 kurrentdb3)
kurrentdb_uid=${KURRENTDB_UID:-1001}

cd /certs
if [[ ! -f ca/ca.crt ]]; then
	es-gencert-cli create-ca -out ./ca
fi
for n in "${nodes[@]}"; do
	if [[ ! -f $n/node.crt ]]; then
		# The name other nodes and the services dial, plus localhost for the host's ports.
		es-gencert-cli create-node -ca-certificate ./ca/ca.crt -ca-key ./ca/ca.key \
			-out "./$n" -dns-names "$n,localhost" -ip-addresses 127.0.0.1
	fi
done
chown -R "$kurrentdb_uid:$kurrentdb_uid" /certs
chmod 0644 ca/ca.crt "${nodes[@]/%//node.crt}"
chmod 0600 ca/ca.key "${nodes[@]/%//node.key}"

install -m 0644 ca/ca.crt /ca/ca.crt

# Random 32-byte keys, hex-encoded (64 bytes; the services need at least 32).
for key in /jwt/jwt.key /national-id/national-id.key; do
	if [[ ! -s $key ]]; then
		head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key"
	fi
	chown 65532:65532 "$key"
	chmod 0400 "$key"
done
# The keyring's keys are created by the registry as craftsmen register.
chown 65532:65532 /personal-keys
chmod 0700 /personal-keys
echo "setup: certificates for ${nodes[*]}, the JWT key, the national-ID key and the personal-data keyring volume are in place"
