# -*- coding: utf-8 -*-
# Copyright: linktrack.https contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sandbox certificate authority.

One CA per state directory, made on first start and kept. It signs the edge's
default ``*.cloudfront.net`` certificate and, through a patch of moto, every
certificate the emulated ACM issues, so SANDBOX_CA_BUNDLE trusts them all.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import ipaddress
import os
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_COMMON_NAME = "linktrack.https Sandbox Root CA"
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _new_key():
    # The same key type and size moto's ACM uses for the certificates it issues.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class SandboxCA:
    """A CA certificate and key, able to sign server certificates."""

    def __init__(self, cert, key):
        self.cert = cert
        self.key = key
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def load_or_create(cls, cert_path, key_path):
        """Load the CA from the state directory, or make one and store it there."""
        if os.path.exists(cert_path) and os.path.exists(key_path):
            with open(cert_path, "rb") as handle:
                cert = x509.load_pem_x509_certificate(handle.read())
            with open(key_path, "rb") as handle:
                key = serialization.load_pem_private_key(handle.read(), password=None)
            if cert.not_valid_after_utc > _now() + datetime.timedelta(days=30):
                return cls(cert, key)
        key = _new_key()
        name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "linktrack.https sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME),
        ])
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        os.makedirs(os.path.dirname(cert_path), exist_ok=True)
        _write(key_path, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()), 0o600)
        _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        return cls(cert, key)

    def issue(self, names, key=None, days=395):
        """Sign a server certificate for ``names`` (the first is the subject CN). Returns (cert, key)."""
        key = key or _new_key()
        unique = []
        for name in names:
            if name not in unique:
                unique.append(name)
        alt_names = [
            x509.IPAddress(ipaddress.IPv4Address(name)) if _IPV4.match(name) else x509.DNSName(name)
            for name in unique
        ]
        now = _now()
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, unique[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
                critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return cert, key


def pem_pair(cert, key):
    """(certificate PEM, unencrypted private key PEM) as bytes."""
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()),
    )


def _write(path, data, mode):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def patch_moto_acm(sandbox_ca):
    """Make moto's ACM issue certificates signed by the sandbox CA.

    CertBundle.generate_cert (used by RequestCertificate) changes: same
    names, same key type, same status handling; the issuer is the sandbox CA and
    GetCertificate's chain is the CA certificate. Everything else of moto stays.
    """
    from moto.acm import models as acm_models  # pylint: disable=import-outside-toplevel

    def generate_cert(cls, domain_name, account_id, region, sans=None, cert_authority_arn=None):
        names = [domain_name] + [name for name in (sans or []) if name != domain_name]
        cert, key = sandbox_ca.issue(names)
        cert_pem, key_pem = pem_pair(cert, key)
        bundle = cls(
            certificate=cert_pem,
            private_key=key_pem,
            cert_type="PRIVATE" if cert_authority_arn is not None else "AMAZON_ISSUED",
            cert_status="ISSUED" if cert_authority_arn is not None else "PENDING_VALIDATION",
            cert_authority_arn=cert_authority_arn,
            account_id=account_id,
            region=region,
        )
        bundle.chain = sandbox_ca.cert_pem
        return bundle

    acm_models.CertBundle.generate_cert = classmethod(generate_cert)

    # moto 5.2 answers HTTP 500 (KeyError) when an idempotency token still points
    # at a certificate that was deleted since; forget such a token instead, so a
    # request after a teardown makes a new certificate.
    original_lookup = acm_models.AWSCertificateManagerBackend._get_arn_from_idempotency_token

    def _get_arn_from_idempotency_token(self, token):
        arn = original_lookup(self, token)
        return arn if arn in self._certificates else None  # pylint: disable=protected-access

    acm_models.AWSCertificateManagerBackend._get_arn_from_idempotency_token = _get_arn_from_idempotency_token
