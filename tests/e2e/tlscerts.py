"""Test PKI for the TLS tests: a private CA and certificates made with the
openssl command (spec/security.md 11: "key and certificate for
mx.example.test signed by a test CA").

    pki = tlscerts.pki()          # made once per test run, then reused
    pki.ca                        # CA certificate (PEM path)
    pki.server                    # Cert for mx.example.test (RSA 2048)
    pki.server_ec                 # Cert for mx.example.test (ECDSA P-256)
    pki.wrong                     # Cert for wrong.test (same CA)
    pki.client                    # client certificate "client.example.test"
    pki.other_client              # another client certificate
    pki.selfsigned                # self-signed mx.example.test (no CA)
    pki.other_ca                  # a second CA that signed nothing we use

Each Cert has .cert, .key (PEM paths), .chain (key then certificate then
CA in one file, the smtpd_tls_chain_files form), .cn, and the SHA-256
fingerprints Postfix prints: .cert_fpr and .pkey_fpr ("AA:BB:...").
Keys are unencrypted, mode 0600; the files live in one temporary
directory removed at interpreter exit (POSTERN_KEEP=1 keeps it).
"""

import atexit
import hashlib
import os
import shutil
import subprocess
import tempfile


def _openssl(*args, cwd=None, stdin=None):
    subprocess.run(["openssl", *args], cwd=cwd, input=stdin, check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _fingerprint(der):
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


class Cert:
    """One key pair and certificate (paths and fingerprints)."""

    def __init__(self, directory, name, cn):
        self.name = name
        self.cn = cn
        self.key = os.path.join(directory, name + ".key")
        self.cert = os.path.join(directory, name + ".crt")
        self.chain = os.path.join(directory, name + ".chain.pem")

    def _finish(self, ca_cert):
        der = subprocess.run(["openssl", "x509", "-in", self.cert, "-outform", "DER"],
                             check=True, stdout=subprocess.PIPE).stdout
        pub = subprocess.run(["openssl", "x509", "-in", self.cert, "-noout", "-pubkey"],
                             check=True, stdout=subprocess.PIPE).stdout
        pub_der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                                 check=True, stdout=subprocess.PIPE).stdout
        self.cert_der = der
        self.pkey_der = pub_der
        self.cert_fpr = _fingerprint(der)
        self.pkey_fpr = _fingerprint(pub_der)
        with open(self.chain, "w") as out:
            for path in (self.key, self.cert) + ((ca_cert,) if ca_cert else ()):
                with open(path) as f:
                    out.write(f.read())
        os.chmod(self.key, 0o600)
        os.chmod(self.chain, 0o600)


class PKI:
    """A CA and the certificates the tests use (see the module docstring)."""

    def __init__(self, directory):
        self.dir = directory
        self.ca = os.path.join(directory, "ca.crt")
        self.ca_key = os.path.join(directory, "ca.key")
        self._make_ca(self.ca, self.ca_key, "Postern Test CA")
        other_ca_key = os.path.join(directory, "other-ca.key")
        self.other_ca = os.path.join(directory, "other-ca.crt")
        self._make_ca(self.other_ca, other_ca_key, "Other Test CA")
        self.server = self._issue("server", "mx.example.test", ["mx.example.test", "localhost"])
        self.server_ec = self._issue("server-ec", "mx.example.test", ["mx.example.test", "localhost"],
                                     ec=True)
        self.wrong = self._issue("wrong", "wrong.test", ["wrong.test"])
        self.client = self._issue("client", "client.example.test", [], client=True)
        self.other_client = self._issue("other-client", "other.example.test", [], client=True)
        self.selfsigned = self._selfsigned("selfsigned", "mx.example.test")
        # A directory usable as smtp_tls_CApath / smtpd_tls_CApath.
        self.capath = os.path.join(directory, "capath")
        os.mkdir(self.capath)
        shutil.copy(self.ca, self.capath)
        subprocess.run(["openssl", "rehash", self.capath], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def _make_ca(self, cert, key, cn):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                 "-days", "3650", "-subj", f"/O=Postern Tests/CN={cn}",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def _issue(self, name, cn, dns_names, ec=False, client=False):
        c = Cert(self.dir, name, cn)
        csr = os.path.join(self.dir, name + ".csr")
        ext = os.path.join(self.dir, name + ".ext")
        if ec:
            _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", c.key)
        else:
            _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                     "-out", c.key)
        _openssl("req", "-new", "-key", c.key, "-out", csr, "-subj", f"/O=Postern Tests/CN={cn}")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n")
            f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client else "serverAuth,clientAuth"))
            if dns_names:
                f.write("subjectAltName=" + ",".join("DNS:" + n for n in dns_names) + "\n")
        _openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                 "-CAcreateserial", "-out", c.cert, "-days", "3650", "-extfile", ext)
        c._finish(self.ca)
        return c

    def _selfsigned(self, name, cn):
        c = Cert(self.dir, name, cn)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", c.key, "-out", c.cert,
                 "-days", "3650", "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}")
        c._finish(None)
        return c


_pki = None


def pki():
    """The test PKI, made on first use."""
    global _pki
    if _pki is None:
        directory = tempfile.mkdtemp(prefix="postern-pki-")
        os.chmod(directory, 0o755)
        if not os.environ.get("POSTERN_KEEP"):
            atexit.register(shutil.rmtree, directory, True)
        _pki = PKI(directory)
    return _pki
