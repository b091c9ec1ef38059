"""More end-to-end tests of the smtp(8) delivery agent: dead MX hosts are
not waited for on every message (issue 8), 8BITMIME downgrade to
quoted-printable (delivery.md 6.3) and best_mx_transport (6.2).

Peers, DNS and helpers come from test_smtp_client.py (see its docstring).
"""

import re
import socket

import pytest

from dnsserver import dns_server  # noqa: F401 (fixture)
from test_smtp_client import configure, line_for, peers, submit  # noqa: F401 (fixture)


class BlackHole:
    """An address:port that never answers a SYN: a listener with a zero
    backlog that never accepts, its accept queue filled by our own
    connections. Connecting to it times out."""

    def __init__(self, host, port=25):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(0)
        self.fill = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect((host, port))
            except BlockingIOError:
                pass
            self.fill.append(c)

    def close(self):
        for c in self.fill:
            c.close()
        self.sock.close()


@pytest.fixture
def black_holes():
    made = []

    def make(host):
        h = BlackHole(host)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


def test_dead_mx_hosts_not_waited_for_on_every_message(make_instance, dns_server,  # noqa: F811
                                                      peers, black_holes):  # noqa: F811
    dead = ["127.0.58.30", "127.0.58.31", "127.0.58.32"]
    for addr in dead:
        black_holes(addr)
    live = [peers(host="127.0.58.33", port=25), peers(host="127.0.58.34", port=25)]
    names = ["m1", "m2", "m3", "m4", "m5"]
    addrs = dead + ["127.0.58.33", "127.0.58.34"]
    dns = dns_server({"d.test": "".join(f"@ MX 10 {n}\n" for n in names) +
                      "".join(f"{n} A {a}\n" for n, a in zip(names, addrs))})
    inst = make_instance()
    # One smtp process delivers the messages one after the other, each over
    # a new connection (a cached one would hide the address walk).
    configure(inst, dns, smtp_connect_timeout="2s", smtp_destination_concurrency_limit="1",
              smtp_connection_cache_on_demand="no")
    qids = [submit(inst, [f"u{i}@d.test"]) for i in range(10)]
    for i, qid in enumerate(qids):
        got = line_for(inst, qid, f"u{i}@d.test", timeout=60)
        assert got["status"] == "sent", got
        assert re.fullmatch(r"m[45]\.d\.test\[127\.0\.58\.3[34]\]:25", got["relay"]), got
    assert sum(len(p.sessions) for p in live) == 10
    log = inst.log()
    attempts = re.findall(r"postfix/smtp\[(\d+)\]: connect to m\d\.d\.test\[(127\.0\.58\.3[012])\]:25: "
                          r"Connection timed out$", log, re.M)
    # The dead hosts were really tried (and logged), but each only once per
    # smtp process (the memory is per process; the master may start a
    # second one while the first reports itself idle): afterwards they go
    # behind the live hosts. Without the memory each message would try
    # about one of them first (10 attempts expected).
    by_process = {}
    for pid, addr in attempts:
        by_process.setdefault(pid, []).append(addr)
    assert attempts and len(attempts) < 10, attempts
    for addrs_tried in by_process.values():
        assert len(set(addrs_tried)) == len(addrs_tried) <= 3, attempts


EIGHTBIT_MESSAGE = (
    "Subject: 8bit\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"=b1\"\r\n\r\n"
    "--=b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "gr\u00fc\u00df = dich \r\n.dot\r\n"
    "--=b1\r\nContent-Type: text/plain\r\n\r\nascii = as is\r\n"
    "--=b1--\r\n").encode("utf-8")


def send_8bit(inst, rcpt):
    smtp = inst.smtp(helo="client.example")
    try:
        smtp.sendmail("alice@example.org", [rcpt], EIGHTBIT_MESSAGE, mail_options=["BODY=8BITMIME"])
        smtp.quit()
    finally:
        smtp.close()


@pytest.mark.parametrize("disable", ["no", "yes"])
def test_8bit_downgraded_for_server_without_8bitmime(make_instance, peers, disable):  # noqa: F811
    seven = peers(host="127.0.58.40", features=("PIPELINING", "SIZE 1000000"))
    eight = peers(host="127.0.58.41")
    inst = make_instance()
    configure(inst, transport=f"seven.test smtp:[127.0.58.40]:{seven.port}\n"
                              f"eight.test smtp:[127.0.58.41]:{eight.port}\n",
              disable_mime_output_conversion=disable)
    send_8bit(inst, "u@seven.test")
    send_8bit(inst, "u@eight.test")
    inst.wait_log(r"postfix/smtp\[\d+\]: \w+: to=<u@seven\.test>, .*status=sent")
    inst.wait_log(r"postfix/smtp\[\d+\]: \w+: to=<u@eight\.test>, .*status=sent")
    # The 8BITMIME peer gets BODY=8BITMIME and the bytes unchanged.
    mail = [c for c in eight.sessions[0]["cmds"] if c.startswith("MAIL")][0]
    assert "BODY=8BITMIME" in mail
    assert eight.sessions[0]["data"].endswith(EIGHTBIT_MESSAGE.replace(b"\r\n.dot", b"\r\n..dot"))
    mail = [c for c in seven.sessions[0]["cmds"] if c.startswith("MAIL")][0]
    assert "BODY=" not in mail
    data = seven.sessions[0]["data"]
    if disable == "yes":
        assert data.endswith(EIGHTBIT_MESSAGE.replace(b"\r\n.dot", b"\r\n..dot"))
        return
    assert data.endswith(
        b"Content-Type: multipart/mixed; boundary=\"=b1\"\r\n\r\n"
        b"--=b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"gr=C3=BC=C3=9F =3D dich=20\r\n..dot\r\n"
        b"--=b1\r\nContent-Type: text/plain\r\n\r\nascii = as is\r\n"
        b"--=b1--\r\n")
    assert all(b < 128 for b in data)


def test_best_mx_transport(make_instance, dns_server, peers):  # noqa: F811
    # This host (127.0.0.1) is the best MX of s.test; the backup is never used.
    backup = peers(host="127.0.58.42", port=25)
    dns = dns_server({"s.test": "@ MX 10 self\n@ MX 20 backup\nself A 127.0.0.1\n"
                                "backup A 127.0.58.42\n",
                      "n.test": "@ MX 10 self.s.test.\n@ MX 20 backup.s.test.\n"})
    inst = make_instance()
    configure(inst, dns, best_mx_transport="discard:kept by best mx")
    qid = submit(inst, ["a@s.test", "b@s.test"])
    for rcpt in ("a@s.test", "b@s.test"):
        m = inst.wait_log(rf"postfix/discard\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, relay=none, .*"
                          r"dsn=2\.0\.0, status=sent \(kept by best mx\)$")
        assert m
    inst.wait_log(rf"{qid}: removed")
    assert backup.sessions == []
    assert not re.search(rf"{qid}: to=<a@s\.test>.*loops back", inst.log())
    # Without the parameter the same mail bounces.
    inst.update_main_cf({"best_mx_transport": ""})
    inst.postfix("reload", check=True)
    inst.wait_log(r"reload")
    qid = submit(inst, ["c@n.test"])
    got = line_for(inst, qid, "c@n.test")
    assert (got["dsn"], got["status"], got["text"]) == (
        "5.4.6", "bounced", "mail for n.test loops back to myself")
