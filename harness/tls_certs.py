"""The throwaway certificate authority of one test run, and the certificates it signs.

`make(tls_dir, ca_dir=None)` writes into `tls_dir` (PEM files, EC P-256 keys):

- `ca.pem`, `ca.key`: the run's CA (made here, or copied from `ca_dir` so that a
  test's private Synapse chains to the same CA as the shared one);
- `server.pem`, `server.key`: what Synapse serves; valid for `localhost`,
  127.0.0.1 and ::1, for 30 days;
- `trust.pem`: the system's CA bundle (when there is one) followed by `ca.pem`,
  what `SSL_CERT_FILE` points at during a run, so that the tests' own tools
  (pip, cargo) keep trusting the public roots;
- bad certificates for the TLS tests, each with its key (`NAME.key`):
  `expired.pem` (the run's CA, valid for 127.0.0.1 and localhost, ended
  yesterday), `wrong-host.pem` (the run's CA, valid only for
  `wrong-host.invalid`), `untrusted.pem` (valid for 127.0.0.1 and localhost,
  signed by `untrusted-ca.pem`, a CA that nothing trusts);
- `unrelated-ca.pem`: a CA that signs nothing, for a test that needs a trust store
  holding neither the run's CA nor `untrusted-ca.pem`.

Needs `cryptography` (a dependency of Synapse, pinned in requirements.txt).
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SYSTEM_BUNDLES = [
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
]
LOOPBACK = ["localhost", "127.0.0.1", "::1"]
DAY = datetime.timedelta(days=1)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _write_cert(cert: x509.Certificate, path: Path) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _ca(common_name: str, now: datetime.datetime):
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - DAY)
        .not_valid_after(now + 30 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _leaf(ca_cert, ca_key, names: list[str], not_before, not_after):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_san(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _load_ca(ca_dir: Path):
    cert = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())
    key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), password=None)
    return cert, key


def make(tls_dir: Path, ca_dir: Path | None = None) -> dict:
    """Writes the run's CA and certificates into `tls_dir`; returns their paths."""
    tls_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    if ca_dir is not None and (ca_dir / "ca.key").exists():
        ca_cert, ca_key = _load_ca(ca_dir)
    else:
        ca_cert, ca_key = _ca("matrix-mobile-core test CA", now)
    _write_cert(ca_cert, tls_dir / "ca.pem")
    _write_key(ca_key, tls_dir / "ca.key")

    leaves = {
        "server": (ca_cert, ca_key, LOOPBACK, now - DAY, now + 30 * DAY),
        "expired": (ca_cert, ca_key, LOOPBACK, now - 30 * DAY, now - DAY),
        "wrong-host": (ca_cert, ca_key, ["wrong-host.invalid"], now - DAY, now + 30 * DAY),
    }
    untrusted_cert, untrusted_key = _ca("a CA that nothing trusts", now)
    _write_cert(untrusted_cert, tls_dir / "untrusted-ca.pem")
    leaves["untrusted"] = (untrusted_cert, untrusted_key, LOOPBACK, now - DAY, now + 30 * DAY)
    _write_cert(_ca("a CA that signs nothing", now)[0], tls_dir / "unrelated-ca.pem")
    for name, (issuer, issuer_key, names, start, end) in leaves.items():
        cert, key = _leaf(issuer, issuer_key, names, start, end)
        _write_cert(cert, tls_dir / f"{name}.pem")
        _write_key(key, tls_dir / f"{name}.key")

    with open(tls_dir / "trust.pem", "wb") as trust:
        for bundle in SYSTEM_BUNDLES:
            if Path(bundle).is_file():
                with open(bundle, "rb") as system:
                    shutil.copyfileobj(system, trust)
                trust.write(b"\n")
                break
        trust.write((tls_dir / "ca.pem").read_bytes())
    return {
        "tls_dir": str(tls_dir),
        "ca_file": str(tls_dir / "ca.pem"),
        "trust_file": str(tls_dir / "trust.pem"),
        "certificate": str(tls_dir / "server.pem"),
        "private_key": str(tls_dir / "server.key"),
    }
