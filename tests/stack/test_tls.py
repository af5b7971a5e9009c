"""stack/tls.py: the CA and the brokers' certificate, for the native cluster and for compose."""

import stat

from cryptography import x509

from stack import tls

HOSTS = ["kafka", "kafka-2", "localhost", "127.0.0.1"]


def alt_names(path) -> set[str]:
    """The DNS names and IP addresses a PEM file's first certificate is valid for."""
    names = tls.names_of(path)
    return {str(name.value) for name in names}


def make(folder, hosts=HOSTS) -> int:
    """Run the command compose runs."""
    return tls.main(["--out", str(folder), "--hosts", ",".join(hosts)])


def test_the_command_signs_one_certificate_for_every_host_with_a_public_ca(tmp_path):
    assert make(tmp_path) == 0
    assert alt_names(tmp_path / "broker.pem") == set(HOSTS)
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    broker = x509.load_pem_x509_certificate((tmp_path / "broker.pem").read_bytes())
    broker.verify_directly_issued_by(ca)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"ca.pem": 0o644, "ca-key.pem": 0o600, "broker.pem": 0o600}


def test_a_current_certificate_is_kept_and_a_new_host_gets_a_new_one_of_the_same_ca(tmp_path):
    make(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    make(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    make(tmp_path, [*HOSTS, "kafka-3"])
    assert "kafka-3" in alt_names(tmp_path / "broker.pem")
    assert (tmp_path / "ca.pem").read_bytes() == before["ca.pem"]


def test_the_native_cluster_gets_loopback(tmp_path, monkeypatch):
    monkeypatch.setattr(tls, "CA_FILE", tmp_path / "ca.pem")
    monkeypatch.setattr(tls, "CA_KEY", tmp_path / "ca-key.pem")
    monkeypatch.setattr(tls, "BROKER_FILE", tmp_path / "broker.pem")
    assert tls.ensure() is True
    assert alt_names(tmp_path / "broker.pem") == {tls.t.HOST, "localhost"}
    assert tls.ensure() is False
