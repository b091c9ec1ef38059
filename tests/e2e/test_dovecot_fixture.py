"""The Dovecot LMTP fixture (tests/e2e/dovecot.py) with raw LMTP sessions:
LHLO, MAIL, two good recipients and one unknown, DATA, one reply per
accepted recipient after the dot, and the delivered maildir files; over
the UNIX socket and over TCP."""

import socket

import pytest

from dovecot import Dovecot


@pytest.fixture(scope="module")
def dovecot():
    dc = Dovecot()
    dc.start()
    yield dc
    dc.close()


def _session(sock):
    f = sock.makefile("rwb")

    def reply():
        lines = []
        while True:
            line = f.readline()
            assert line, "connection closed"
            lines.append(line.decode().rstrip("\r\n"))
            if line[3:4] != b"-":
                return lines

    def cmd(text):
        f.write(text.encode() + b"\r\n")
        f.flush()
        return reply()

    return f, reply, cmd


def _lmtp_transaction(sock, users):
    f, reply, cmd = _session(sock)
    assert reply()[0].startswith("220 ")
    lhlo = cmd("LHLO client.test")
    assert lhlo[-1].startswith("250 ") and any("PIPELINING" in line for line in lhlo)
    assert cmd("MAIL FROM:<sender@example.org>")[0].startswith("250")
    rcpt_replies = [cmd(f"RCPT TO:<{u}@example.com>")[0] for u in users]
    unknown = cmd("RCPT TO:<nobody-here@example.com>")[0]
    assert cmd("DATA")[0].startswith("354")
    f.write(b"Subject: lmtp test\r\n\r\n..dotted line\r\nbody\r\n.\r\n")
    f.flush()
    per_rcpt = [reply()[0] for _ in users]
    assert cmd("QUIT")[0].startswith("221")
    return rcpt_replies, unknown, per_rcpt


@pytest.mark.parametrize("kind", ["unix", "inet"])
def test_lmtp_delivers_into_maildir(dovecot, kind):
    users = [dovecot.add_user(f"{kind}a"), dovecot.add_user(f"{kind}b")]
    if kind == "unix":
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(20)
        sock.connect(dovecot.socket_path)
        assert dovecot.unix_nexthop == f"unix:{dovecot.socket_path}"
    else:
        sock = socket.create_connection(("127.0.0.1", dovecot.port), timeout=20)
        assert dovecot.inet_nexthop == f"inet:127.0.0.1:{dovecot.port}"
    with sock:
        rcpt_replies, unknown, per_rcpt = _lmtp_transaction(sock, users)
    assert all(r.startswith("250 2.1.5") for r in rcpt_replies), rcpt_replies
    assert unknown.startswith("550 5.1.1"), unknown
    assert len(per_rcpt) == 2 and all(r.startswith("250 2.0.0") for r in per_rcpt), per_rcpt
    for u in users:
        [msg] = dovecot.wait_messages(u, 1)
        assert b"Subject: lmtp test\n" in msg
        assert msg.endswith(b"\n.dotted line\nbody\n")
        assert msg.startswith(b"Return-Path: <sender@example.org>\n")
        assert b"with LMTP" in msg
