"""The cluster stack's TLS: a private CA and one broker certificate for loopback, made once.

Generated with `cryptography`; Kafka reads both as PEM (no keytool, no JDK). The single-node stack
listens on loopback only and stays on SASL_PLAINTEXT (README, "Security model").
"""

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from stack import topology as t
from stack.secrets import write_private

FOLDER = t.STATE / "tls"
CA_FILE = Path(t.STATE_CA)
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


def ensure() -> bool:
    """Make the CA and the broker certificate unless both exist and are far from expiry."""
    if not expiring(CA_FILE) and not expiring(BROKER_FILE):
        return False
    if expiring(CA_FILE) or not CA_KEY.exists():
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = certificate(
            name("cdc-order-sync dev CA"),
            name("cdc-order-sync dev CA"),
            ca_key.public_key(),
            ca_key,
            ca=True,
        )
        write_private(CA_KEY, pem_key(ca_key))
        write_private(CA_FILE, pem_cert(ca))
    ca_key = serialization.load_pem_private_key(CA_KEY.read_bytes(), None)
    ca = x509.load_pem_x509_certificate(CA_FILE.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    sans = (x509.IPAddress(ipaddress.ip_address(t.HOST)), x509.DNSName("localhost"))
    cert = certificate(name("kafka"), ca.subject, key.public_key(), ca_key, ca=False, sans=sans)
    write_private(BROKER_FILE, pem_key(key) + pem_cert(cert) + pem_cert(ca))
    return True
