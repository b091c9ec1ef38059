"""A real DNS server (BIND 9's named) on loopback for end-to-end tests.

    server = DnsServer({"example.test": "www A 192.0.2.1\n"},
                       broken=["fail.test"])
    server.start()            # named on 127.0.0.1:server.port (UDP+TCP)
    ...  main.cf: dns_resolver_servers = server.address  ("127.0.0.1:PORT")
    server.stop()

or as a context manager (`with DnsServer(...) as server:`), or through the
pytest fixture `dns_server` (a factory: dns_server(zones, broken=...)
returns a started server, stopped at teardown).

zones: {zone name: zone file text}. The text is the zone's records in
master-file syntax, relative names allowed; when it has no SOA, a header
is prepended: `$TTL 300`, an SOA, `NS ns.ZONE.` and `ns A 127.0.0.1`.
broken: zone names whose file is deliberately unloadable, so named
answers SERVFAIL for every name in them (how the tests get a
deterministic temporary failure). Names outside every zone are REFUSED
(recursion is off).

DNSSEC: signed=["secure.test", ...] signs those zones (dnssec-keygen and
dnssec-signzone, ECDSA P-256, NSEC) and starts a second named as a
validating recursive resolver: trust anchors are the signed zones' KSKs,
every query is forwarded to the authoritative named. server.address is
then the resolver's: answers from signed zones carry the AD bit, answers
from the other zones (and the broken ones) are passed on unvalidated.
server.auth_port is the authoritative server's port.

named runs authoritative only, in the foreground (-g), as the invoking
user with its own directory; its stderr goes to DIR/named.log, which
failure messages include. start() waits (bounded) for named's "running"
log line; stop() terminates it (SIGTERM, then SIGKILL after 10 s).
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

NAMED = shutil.which("named") or "/usr/sbin/named"


def free_udp_tcp_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on HOST right now."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                except OSError:
                    continue
                return port
    raise AssertionError("no free UDP+TCP port found")


def _zone_text(zone, body):
    if "SOA" in body.split():
        return body
    header = (f"$TTL 300\n"
              f"@ IN SOA ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 300\n"
              f"@ IN NS ns.{zone}.\n"
              f"ns IN A 127.0.0.1\n")
    return header + body + ("\n" if not body.endswith("\n") else "")


class DnsServer:
    """One named instance; see the module docstring."""

    def __init__(self, zones, broken=(), host="127.0.0.1", port=None, signed=()):
        self.zones = dict(zones)
        self.broken = list(broken)
        self.signed = list(signed)
        self.auth_port = None
        self.resolver = None
        self.host = host
        self.port = port
        self.dir = None
        self.proc = None

    @property
    def address(self):
        """host:port, the form dns_resolver_servers takes."""
        return f"{self.host}:{self.port}"

    def log(self):
        """named's log so far."""
        if self.dir is None:
            return ""
        try:
            with open(os.path.join(self.dir, "named.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _write_config(self):
        conf = [
            "options {",
            f'    directory "{self.dir}";',
            f'    pid-file "{self.dir}/named.pid";',
            f'    session-keyfile "{self.dir}/session.key";',
            f'    managed-keys-directory "{self.dir}";',
            f"    listen-on port {self.port} {{ {self.host}; }};",
            "    listen-on-v6 { none; };",
            "    recursion no;",
            "    notify no;",
            "    dnssec-validation no;",
            "    allow-query { any; };",
            "};",
            "controls { };",
        ]
        for i, (zone, body) in enumerate(sorted(self.zones.items())):
            name = f"zone{i}.db"
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(_zone_text(zone, body))
            if zone in self.signed:
                name = self._sign(zone, name)
            conf.append(f'zone "{zone}" {{ type primary; file "{name}"; }};')
        for i, zone in enumerate(self.broken):
            name = f"broken{i}.db"
            with open(os.path.join(self.dir, name), "w") as f:
                f.write("this is not a zone file\n")
            conf.append(f'zone "{zone}" {{ type primary; file "{name}"; }};')
        path = os.path.join(self.dir, "named.conf")
        with open(path, "w") as f:
            f.write("\n".join(conf) + "\n")
        return path

    def _sign(self, zone, name):
        """Sign zone file NAME; the signed file's name. Keeps the KSK."""
        def keygen(*flags):
            r = subprocess.run(["dnssec-keygen", "-q", "-K", self.dir, "-a", "ECDSAP256SHA256",
                                *flags, "-n", "ZONE", zone], check=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            return r.stdout.strip()
        zsk = keygen()
        ksk = keygen("-f", "KSK")
        path = os.path.join(self.dir, name)
        with open(path, "a") as f:
            for key in (zsk, ksk):
                f.write(f"$INCLUDE {os.path.join(self.dir, key)}.key\n")
        subprocess.run(["dnssec-signzone", "-q", "-K", self.dir, "-o", zone, "-k",
                        os.path.join(self.dir, ksk), "-f", path + ".signed", path,
                        os.path.join(self.dir, zsk)],
                       check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.dir)
        with open(os.path.join(self.dir, ksk + ".key")) as f:
            for line in f:
                if line.startswith(";") or "DNSKEY" not in line:
                    continue
                fields = line.split()
                i = fields.index("DNSKEY")
                self._anchors.append((zone, fields[i + 1], fields[i + 2], fields[i + 3],
                                      "".join(fields[i + 4:])))
        return name + ".signed"

    def _resolver_config(self):
        conf = [
            "options {",
            f'    directory "{self.dir}/resolver";',
            f'    pid-file "{self.dir}/resolver/named.pid";',
            f'    session-keyfile "{self.dir}/resolver/session.key";',
            f'    managed-keys-directory "{self.dir}/resolver";',
            f"    listen-on port {self.port} {{ {self.host}; }};",
            "    listen-on-v6 { none; };",
            "    recursion yes;",
            "    allow-recursion { any; };",
            "    allow-query { any; };",
            "    allow-query-cache { any; };",
            "    dnssec-validation yes;",
            "    qname-minimization disabled;",
            "    forward only;",
            f"    forwarders {{ {self.host} port {self.auth_port}; }};",
            "    notify no;",
            "};",
            "controls { };",
            "trust-anchors {",
        ]
        for zone, flags, proto, alg, key in self._anchors:
            conf.append(f'    "{zone}." static-key {flags} {proto} {alg} "{key}";')
        conf.append("};")
        path = os.path.join(self.dir, "resolver", "named.conf")
        with open(path, "w") as f:
            f.write("\n".join(conf) + "\n")
        return path

    def _run_named(self, conf, log_path, timeout):
        log = open(log_path, "wb")
        proc = subprocess.Popen([NAMED, "-g", "-c", conf, "-n", "1"],
                                stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(log_path, errors="replace") as f:
                if "running" in f.read().split():
                    return proc, True
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        return proc, False

    def start(self, timeout=20):
        """Write the configuration, start named, wait until it runs."""
        if not os.path.exists(NAMED):
            raise AssertionError(f"{NAMED} missing: install bind9 (tools/packages)")
        self.dir = tempfile.mkdtemp(prefix="postern-dns-")
        if self.port is None:
            self.port = free_udp_tcp_port(self.host)
        self._anchors = []
        if self.signed:
            # The authoritative server on its own port, the resolver on ours.
            self.auth_port = free_udp_tcp_port(self.host)
            while self.auth_port == self.port:
                self.auth_port = free_udp_tcp_port(self.host)
            public_port, self.port = self.port, self.auth_port
            conf = self._write_config()
            self.port = public_port
        else:
            self.auth_port = self.port
            conf = self._write_config()
        log = open(os.path.join(self.dir, "named.log"), "wb")
        self.proc = subprocess.Popen([NAMED, "-g", "-c", conf, "-n", "1"],
                                     stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if "running" in text.split():
                if not self.signed:
                    return self
                os.mkdir(os.path.join(self.dir, "resolver"))
                rlog = os.path.join(self.dir, "resolver", "named.log")
                self.resolver, ok = self._run_named(self._resolver_config(), rlog, timeout)
                if ok:
                    return self
                with open(rlog, errors="replace") as f:
                    text = f.read()
                self.stop()
                raise AssertionError(f"validating named did not start on {self.address}:\n{text}")
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        log_text = self.log()
        self.stop()
        raise AssertionError(f"named did not start on {self.address}:\n{log_text}")

    def stop(self):
        """Stop named (both, with signed zones) and remove its directory."""
        if self.resolver is not None:
            if self.resolver.poll() is None:
                self.resolver.send_signal(signal.SIGTERM)
                try:
                    self.resolver.wait(10)
                except subprocess.TimeoutExpired:
                    self.resolver.kill()
                    self.resolver.wait()
            self.resolver = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if self.dir is not None and not os.environ.get("POSTERN_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@pytest.fixture
def dns_server():
    """Factory fixture: dns_server(zones, broken=()) -> started DnsServer."""
    started = []

    def make(zones, broken=(), **kwargs):  # signed=[...] for DNSSEC
        server = DnsServer(zones, broken=broken, **kwargs)
        started.append(server)
        return server.start()

    yield make
    for server in reversed(started):
        server.stop()
