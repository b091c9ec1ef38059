"""Unit tests of the scriptable SMTP/LMTP peer (tests/e2e/smtppeer.py),
driven with smtplib and raw sockets."""

import os
import smtplib
import socket
import tempfile

import pytest

from smtppeer import Peer


def _raw(peer, data, until, timeout=10):
    """Connect, read the greeting, send DATA bytes at once, read until UNTIL."""
    s = socket.create_connection((peer.host, peer.port), timeout=timeout)
    buf = b""
    while b"\r\n" not in buf:
        buf += s.recv(4096)
    s.sendall(data)
    buf = b""
    while until not in buf:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    s.close()
    return buf.decode()


def test_ehlo_keywords_and_message_bytes():
    with Peer(size=1000, xforward=True, chunking=True, ehlo_name="sink.test") as peer:
        with smtplib.SMTP(peer.host, peer.port, timeout=10) as c:
            code, text = c.ehlo("client.test")
            assert code == 250
            lines = text.decode().splitlines()
            assert lines[0] == "sink.test"
            assert lines[1:] == ["PIPELINING", "SIZE 1000", "8BITMIME", "DSN",
                                 "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT", "CHUNKING"]
            assert c.docmd("XFORWARD", "NAME=h.test ADDR=192.0.2.1")[0] == 250
            c.sendmail("a@x.test", ["b@y.test", "c@y.test"], b"Subject: s\r\n\r\n.dot\r\nbody\r\n")
        [m] = peer.wait_messages(1)
        assert (m.mail_from, m.rcpt_to, m.helo) == ("a@x.test", ["b@y.test", "c@y.test"], "client.test")
        assert m.data == b"Subject: s\r\n\r\n.dot\r\nbody\r\n"
        assert m.raw == b"Subject: s\r\n\r\n..dot\r\nbody\r\n.\r\n"
        assert m.xforward == {"NAME": "h.test", "ADDR": "192.0.2.1"}


def test_scripted_replies_per_recipient_and_eod():
    peer = Peer(rcpt_replies=[("*450*", (450, "4.2.0 busy")), ("bad@*", (550, "5.1.1 no such user"))],
                eod_reply=(250, "2.0.0 Ok: queued as ABC"), pipelining=False, greeting=(220, "hi"))
    with peer:
        with smtplib.SMTP(peer.host, peer.port, timeout=10) as c:
            c.ehlo("x")
            assert not c.has_extn("pipelining")
            c.mail("a@x.test")
            assert c.rcpt("ok@y.test")[0] == 250
            assert c.rcpt("u450@y.test") == (450, b"4.2.0 busy")
            assert c.rcpt("bad@y.test") == (550, b"5.1.1 no such user")
            assert c.data(b"x\r\n") == (250, b"2.0.0 Ok: queued as ABC")
        [m] = peer.wait_messages(1)
        assert m.rcpt_to == ["ok@y.test"]
        # Without pipelining smtplib sends one command per reply.
        batches = peer.sessions[0].batches()
        assert ["mail FROM:<a@x.test>"] in batches  # smtplib sends lower case
        assert all(len(b) == 1 for b in batches)


def test_batches_show_pipelined_commands():
    with Peer() as peer:
        out = _raw(peer, b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nDATA\r\n", b"354")
        assert out.count("250") >= 3
        _ = peer.wait_sessions(1, closed=True)
        batches = peer.sessions[0].batches()
        assert batches[0] == ["EHLO c", "MAIL FROM:<a@x>", "RCPT TO:<b@y>", "RCPT TO:<c@y>", "DATA"]
        assert len(peer.sessions[0].reads()) == 1


def test_lmtp_one_reply_per_recipient_on_unix_socket():
    d = tempfile.mkdtemp()
    path = os.path.join(d, "lmtp")
    peer = Peer(unix_path=path, lmtp=True, lmtp_replies=[(250, "2.0.0 ok one"), (452, "4.2.2 full")])
    with peer:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(path)
        f = s.makefile("rwb")
        assert f.readline().startswith(b"220 ")
        f.write(b"LHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nDATA\r\n")
        f.flush()
        lines = []
        while not lines or not lines[-1].startswith(b"354"):
            lines.append(f.readline())
        f.write(b"hello\r\n.\r\n")
        f.flush()
        assert f.readline() == b"250 2.0.0 ok one\r\n"
        assert f.readline() == b"452 4.2.2 full\r\n"
        s.close()
        [m] = peer.wait_messages(1)
        assert m.rcpt_to == ["b@y", "c@y"] and m.data == b"hello\r\n"
    assert not os.path.exists(path)
    os.rmdir(d)


def test_no_eod_reply_and_close_after_data():
    with Peer(action="no_eod_reply") as peer:
        with smtplib.SMTP(peer.host, peer.port, timeout=1) as c:
            c.ehlo("x")
            with pytest.raises((socket.timeout, TimeoutError, smtplib.SMTPServerDisconnected)):
                c.sendmail("a@x", ["b@y"], b"x\r\n")
            c.close()
        peer.wait_messages(1)
    with Peer(action="close_after_data") as peer:
        c = smtplib.SMTP(peer.host, peer.port, timeout=10)
        c.ehlo("x")
        with pytest.raises(smtplib.SMTPServerDisconnected):
            c.sendmail("a@x", ["b@y"], b"x\r\n")
        c.close()


def test_greeting_and_ehlo_name_for_loop_tests():
    with Peer(greeting=(554, "5.7.1 go away")) as peer:
        with pytest.raises(smtplib.SMTPConnectError) as e:
            smtplib.SMTP(peer.host, peer.port, timeout=10)
        assert e.value.smtp_code == 554
    with Peer(host="127.0.0.2", ehlo_name="mail.example.com") as peer:
        with smtplib.SMTP(peer.host, peer.port, timeout=10) as c:
            assert c.ehlo("x")[1].decode().splitlines()[0] == "mail.example.com"
        assert peer.nexthop == f"[127.0.0.2]:{peer.port}"


def test_callable_reply_and_on_message():
    seen = []
    peer = Peer(mail_reply=lambda sess, addr: (550, "5.7.1 no") if addr == "" else (250, "2.1.0 Ok"),
                on_message=lambda m: seen.append(m.rcpt_to) or (451, "4.3.0 try later"))
    with peer:
        with smtplib.SMTP(peer.host, peer.port, timeout=10) as c:
            c.ehlo("x")
            assert c.mail("")[0] == 550
            c.mail("a@x")
            c.rcpt("b@y")
            assert c.data(b"x\r\n") == (451, b"4.3.0 try later")
    assert seen == [["b@y"]]
    assert peer.messages == []
