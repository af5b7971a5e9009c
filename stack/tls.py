"""The cluster stack's TLS: a private CA and one broker certificate for loopback, made once.

Generated with `cryptography`; Kafka reads both as PEM (no keytool, no JDK). The single-node stack
listens on loopback only and stays on SASL_PLAINTEXT (docs/security.md). docker compose's
brokers, TLS on every listener, get theirs from `python -m stack.tls` (docker-compose.yml).
"""

import argparse
import datetime
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ordersync import topology as t
from stack.secrets import write_private
from stack.topology import STATE, STATE_CA

FOLDER = STATE / "tls"
CA_FILE = Path(STATE_CA)
CA_KEY = FOLDER / "ca-key.pem"
# the brokers' key and certificate in one file: Kafka's PEM keystore
BROKER_FILE = FOLDER / "broker.pem"
VALID = datetime.timedelta(days=825)
RENEW_BEFORE = datetime.timedelta(days=30)


def name(common: str) -> x509.Name:
    """A subject or issuer with only a common name."""
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def certificate(subject, issuer, public_key, signing_key, ca: bool, sans=()) -> x509.Certificate:
    """Sign a certificate valid from now for VALID."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def pem_key(key) -> str:
    """An unencrypted PKCS#8 private key (what Kafka's PEM keystore reads); the file is 0600."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def pem_cert(cert: x509.Certificate) -> str:
    """A certificate as PEM text."""
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def expiring(path) -> bool:
    """Tell whether the certificate in a PEM file is missing or close to its end."""
    if not path.exists():
        return True
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC) < RENEW_BEFORE


def alt_names(hosts) -> list[x509.GeneralName]:
    """Subject alternative names: an IP address as such, anything else as a DNS name."""
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def names_of(path) -> set[x509.GeneralName]:
    """The subject alternative names of the certificate in a PEM file (its first certificate)."""
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)


def issue(ca_file: Path, ca_key: Path, broker_file: Path, hosts) -> bool:
    """Make a CA and a broker certificate for `hosts` unless both exist, fit and are not expiring.

    The broker file is Kafka's PEM keystore: its key, its certificate and the CA's.
    """
    sans = alt_names(hosts)
    if not expiring(ca_file) and not expiring(broker_file) and names_of(broker_file) == set(sans):
        return False
    if expiring(ca_file) or not ca_key.exists():
        new_key = ec.generate_private_key(ec.SECP256R1())
        ca = certificate(
            name("cdc-order-sync dev CA"),
            name("cdc-order-sync dev CA"),
            new_key.public_key(),
            new_key,
            ca=True,
        )
        write_private(ca_key, pem_key(new_key))
        write_private(ca_file, pem_cert(ca))
    signer = serialization.load_pem_private_key(ca_key.read_bytes(), None)
    ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(name("kafka"), ca.subject, key.public_key(), signer, ca=False, sans=sans)
    write_private(broker_file, pem_key(key) + pem_cert(cert) + pem_cert(ca))
    return True


def ensure() -> bool:
    """Make the native cluster's CA and broker certificate (loopback) unless both are current."""
    return issue(CA_FILE, CA_KEY, BROKER_FILE, (t.HOST, "localhost"))


def main(argv: list[str] | None = None) -> int:
    """`python -m stack.tls --out DIR --hosts kafka,localhost`: docker compose's certificates.

    Writes DIR/ca.pem, DIR/ca-key.pem and DIR/broker.pem; only ca.pem is readable by all, as
    the clients in other containers (other users) read it.
    """
    parser = argparse.ArgumentParser(prog="python -m stack.tls", description=main.__doc__)
    parser.add_argument("--out", type=Path, required=True, help="the folder to write to")
    parser.add_argument(
        "--hosts", required=True, help="comma-separated names and addresses the brokers answer to"
    )
    args = parser.parse_args(argv)
    hosts = [host.strip() for host in args.hosts.split(",") if host.strip()]
    ca_file = args.out / "ca.pem"
    made = issue(ca_file, args.out / "ca-key.pem", args.out / "broker.pem", hosts)
    ca_file.chmod(0o644)
    print(f"[tls] {'made' if made else 'kept'} the CA and the broker certificate in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
