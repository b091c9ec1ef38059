"""End-to-end tests of the smtp(8)/lmtp(8) delivery agent (delivery.md 6, 7;
acceptance checks 18, 24-32, 34, 35).

A real BIND server (dnsserver.py) serves the test zones; scriptable
SMTP/LMTP peers (Peer below: threaded socket servers) listen on
127.0.58.x addresses, port 25 where the MX rules need it (the tests run
as root) or on free ports reached with [host]:port next hops. The
instance's own address is 127.0.0.1 (inet_interfaces), so an MX host
resolving to 127.0.0.1 is "myself". Mail enters through cleanup
(Instance.cleanup_submit) and the tests read the delivery log lines and
what each peer received.
"""

import os
import re
import socket
import socketserver
import threading

import pytest

import postern
from dnsserver import dns_server  # noqa: F401 (fixture)

SENDER = "alice@example.org"
SELF = "mail.example.com"


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        self.server.peer.serve(self.request, None)


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


class Peer:
    """A scriptable SMTP (or LMTP) server.

    greeting      the greeting line ("220 ..." or "554 go away")
    ehlo_name     first word of the EHLO/LHLO reply
    features      EHLO keyword lines
    rcpt          {address: reply} for RCPT (default 250)
    data_reply    reply after the dot (SMTP)
    lmtp_replies  replies after the dot, one per accepted recipient (LMTP)
    batch         wait for DATA after MAIL before answering any command
                  (proves the client pipelines: otherwise it would wait)
    hang_at_dot   never answer the end of data
    Each session is recorded in `sessions`: {"cmds": [...], "data": bytes,
    "reads": [commands seen in each read that had a command]}.
    """

    def __init__(self, host="127.0.0.1", port=0, unix=None, greeting="220 peer.test ESMTP",
                 ehlo_name="peer.test", features=("PIPELINING", "SIZE 10240000", "8BITMIME", "DSN"),
                 rcpt=None, data_reply="250 2.0.0 Ok: queued as PEERQ1", lmtp_replies=None,
                 batch=False, hang_at_dot=False):
        self.greeting = greeting
        self.ehlo_name = ehlo_name
        self.features = list(features)
        self.rcpt = rcpt or {}
        self.data_reply = data_reply
        self.lmtp_replies = lmtp_replies
        self.batch = batch
        self.hang_at_dot = hang_at_dot
        self.sessions = []
        self.lock = threading.Lock()
        if unix:
            self.server = _UnixServer(unix, _Handler)
            self.address = unix
        else:
            self.server = _TCPServer((host, port), _Handler)
            self.host, self.port = self.server.server_address[:2]
        self.server.peer = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def reply_for(self, sess, cmd):
        verb = cmd.split(" ", 1)[0].upper()
        if verb in ("EHLO", "LHLO"):
            lines = [self.ehlo_name] + self.features
            return "\r\n".join(f"250{'-' if i < len(lines) - 1 else ' '}{t}"
                               for i, t in enumerate(lines))
        if verb == "HELO":
            return f"250 {self.ehlo_name}"
        if verb == "MAIL":
            return "250 2.1.0 Ok"
        if verb == "RCPT":
            addr = re.match(r"RCPT TO:<([^>]*)>", cmd, re.I).group(1)
            reply = self.rcpt.get(addr, "250 2.1.5 Ok")
            if reply.startswith("2"):
                sess["accepted"].append(addr)
            return reply
        if verb == "DATA":
            return "354 End data with <CR><LF>.<CR><LF>" if sess["accepted"] else \
                "554 5.5.1 Error: no valid recipients"
        if verb == "QUIT":
            return "221 2.0.0 Bye"
        return "250 2.0.0 Ok"

    def serve(self, sock, _rfile):
        sess = {"cmds": [], "data": None, "reads": [], "accepted": []}
        with self.lock:
            self.sessions.append(sess)
        buf = bytearray()

        def send(text):
            sock.sendall(text.encode() + b"\r\n")

        def rawline():
            while b"\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                buf.extend(chunk)
            i = buf.index(b"\n") + 1
            line = bytes(buf[:i])
            del buf[:i]
            return line

        def readline():
            line = rawline()
            if line is None:
                return None
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            sess["cmds"].append(cmd)
            # Bytes that arrived behind this command before it was answered.
            sess["reads"].append((cmd, len(buf)))
            return cmd

        send(self.greeting)
        while True:
            cmd = readline()
            if cmd is None:
                return
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "MAIL" and self.batch:
                batch = [cmd]
                while verb != "DATA":
                    cmd = readline()
                    if cmd is None:
                        return
                    verb = cmd.split(" ", 1)[0].upper()
                    batch.append(cmd)
                sess["batch"] = list(batch)
                replies = [self.reply_for(sess, c) for c in batch]
                sock.sendall("".join(r + "\r\n" for r in replies).encode())
                reply = replies[-1]
            else:
                reply = self.reply_for(sess, cmd)
                send(reply)
            if verb == "QUIT":
                return
            if verb == "DATA" and reply.startswith("354"):
                data = b""
                while True:
                    line = rawline()
                    if line is None:
                        return
                    if line == b".\r\n":
                        break
                    data += line
                sess["data"] = data
                if self.hang_at_dot:
                    while sock.recv(100):
                        pass
                    return
                if self.lmtp_replies is not None:
                    for r in self.lmtp_replies[:len(sess["accepted"])]:
                        send(r)
                else:
                    send(self.data_reply)


@pytest.fixture
def peers():
    made = []

    def make(**kwargs):
        p = Peer(**kwargs)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def configure(inst, dns=None, transport=None, **params):
    settings = {"minimal_backoff_time": "300s", "maximal_backoff_time": "300s",
                "smtp_connect_timeout": "5s"}
    if dns is not None:
        settings["dns_resolver_servers"] = dns.address
    if transport:
        inst.write_file("transport", transport)
        settings["transport_maps"] = f"texthash:{inst.path}/transport"
    settings.update(params)
    inst.settings.update(settings)
    inst.write_main_cf("")
    inst.start()


def submit(inst, recipients, body="line one\n.hidden dot line\nlast\n", sender=SENDER):
    content = f"From: <{sender}>\nSubject: smtp test\n\n{body}"
    res = inst.cleanup_submit(sender, recipients, content)
    assert res["status"] == 0, res
    return res["queue_id"]


def line_for(inst, qid, rcpt, timeout=30):
    """The delivery log line of RCPT as a dict (relay, dsn, status, text)."""
    m = inst.wait_log(rf"postfix/(?P<prog>smtp|lmtp)\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, "
                      rf"relay=(?P<relay>\S+), (?:conn_use=\d+, )?delay=[0-9.]+, "
                      rf"delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=(?P<dsn>[0-9.]+), "
                      rf"status=(?P<status>\w+) \((?P<text>.*)\)$", timeout=timeout)
    return m.groupdict()


def zone(body):
    return {"d.test": body}


def test_delivery_to_mx_exact_bytes_and_pipelining(make_instance, dns_server, peers):  # noqa: F811
    peer = peers(host="127.0.58.2", port=25, batch=True)
    dns = dns_server(zone("@ MX 10 mx1\nmx1 A 127.0.58.2\n"))
    inst = make_instance()
    configure(inst, dns)
    qid = submit(inst, ["bob@d.test", "carol@d.test"])
    for rcpt in ("bob@d.test", "carol@d.test"):
        got = line_for(inst, qid, rcpt)
        assert got["relay"] == "mx1.d.test[127.0.58.2]:25"
        assert (got["dsn"], got["status"], got["text"]) == \
            ("2.0.0", "sent", "250 2.0.0 Ok: queued as PEERQ1")
    sess = peer.sessions[0]
    assert sess["cmds"][0] == f"EHLO {SELF}"
    mail = sess["batch"][0]
    assert re.fullmatch(r"MAIL FROM:<alice@example\.org> SIZE=\d+", mail), mail
    # Pipelined: the peer answered nothing before it had MAIL, RCPT, RCPT, DATA.
    assert [c.split(":")[0] for c in sess["batch"]] == ["MAIL FROM", "RCPT TO", "RCPT TO", "DATA"]
    # The peer has DSN: the original recipient goes along as ORCPT.
    assert sess["batch"][1:3] == ["RCPT TO:<bob@d.test> ORCPT=rfc822;bob@d.test",
                                  "RCPT TO:<carol@d.test> ORCPT=rfc822;carol@d.test"]
    assert sess["data"].endswith(b"\r\n\r\nline one\r\n..hidden dot line\r\nlast\r\n")
    assert b"Subject: smtp test\r\n" in sess["data"]
    assert sess["cmds"][-1] == "QUIT"


def test_no_pipelining_one_command_per_reply_and_helo_name(make_instance, peers):
    peer = peers(host="127.0.58.3", features=("SIZE 1000000",))
    inst = make_instance()
    configure(inst, transport=f"np.test smtp:[127.0.58.3]:{peer.port}\n", smtp_helo_name="out.example.com")
    qid = submit(inst, ["a@np.test", "b@np.test"])
    assert line_for(inst, qid, "a@np.test")["status"] == "sent"
    sess = peer.sessions[0]
    assert sess["cmds"][0] == "EHLO out.example.com"
    assert [c.split(":")[0] for c in sess["cmds"][1:5]] == ["MAIL FROM", "RCPT TO", "RCPT TO", "DATA"]
    # Without PIPELINING nothing was buffered behind any command.
    assert all(n == 0 for _, n in sess["reads"]), sess["reads"]


def test_mx_preference_order_with_failing_hosts(make_instance, dns_server, peers):  # noqa: F811
    # a and b (preference 10) refuse connections; c (20) is tried last.
    peer = peers(host="127.0.58.6", port=25)
    dns = dns_server(zone("@ MX 10 a\n@ MX 10 b\n@ MX 20 c\n"
                          "a A 127.0.58.4\nb A 127.0.58.5\nc A 127.0.58.6\n"))
    inst = make_instance()
    configure(inst, dns)
    qid = submit(inst, ["bob@d.test"])
    got = line_for(inst, qid, "bob@d.test")
    assert (got["relay"], got["status"]) == ("c.d.test[127.0.58.6]:25", "sent")
    assert len(peer.sessions) == 1


def test_implicit_mx_null_mx_nxdomain_servfail(make_instance, dns_server, peers):  # noqa: F811
    peer = peers(host="127.0.58.7", port=25)
    dns = dns_server({"d.test": "aonly A 127.0.58.7\nnomx TXT \"x\"\n",
                      "nullmx.test": "@ MX 0 .\n"}, broken=["broken.test"])
    inst = make_instance()
    configure(inst, dns)
    qid = submit(inst, ["u@aonly.d.test", "u@nullmx.test", "u@nx.d.test", "u@broken.test",
                        "u@nomx.d.test"])
    got = line_for(inst, qid, "u@aonly.d.test")
    assert (got["relay"], got["status"]) == ("aonly.d.test[127.0.58.7]:25", "sent")
    assert line_for(inst, qid, "u@nullmx.test") == {
        "prog": "smtp", "relay": "none", "dsn": "5.1.0", "status": "bounced",
        "text": "Domain nullmx.test does not accept mail (nullMX)"}
    assert line_for(inst, qid, "u@nx.d.test") == {
        "prog": "smtp", "relay": "none", "dsn": "5.4.4", "status": "bounced",
        "text": "Host or domain name not found. Name service error for name=nx.d.test type=A: "
                "Host not found"}
    assert line_for(inst, qid, "u@broken.test") == {
        "prog": "smtp", "relay": "none", "dsn": "4.4.3", "status": "deferred",
        "text": "Host or domain name not found. Name service error for name=broken.test type=MX: "
                "Host not found, try again"}
    got = line_for(inst, qid, "u@nomx.d.test")
    assert (got["dsn"], got["status"]) == ("5.4.4", "bounced")
    assert got["text"].endswith("type=A: Host found but no data record of requested type")
    assert len(peer.sessions) == 1


def test_greeting_554_next_mx_then_only_mx(make_instance, dns_server, peers):  # noqa: F811
    bad = peers(host="127.0.58.8", port=25, greeting="554 go away")
    good = peers(host="127.0.58.9", port=25)
    dns = dns_server({"d.test": "@ MX 10 bad\n@ MX 20 good\nbad A 127.0.58.8\ngood A 127.0.58.9\n",
                      "only.test": "@ MX 10 bad.d.test.\n"})
    inst = make_instance()
    configure(inst, dns)
    qid = submit(inst, ["bob@d.test", "bob@only.test"])
    got = line_for(inst, qid, "bob@d.test")
    assert (got["relay"], got["status"]) == ("good.d.test[127.0.58.9]:25", "sent")
    got = line_for(inst, qid, "bob@only.test")
    assert (got["relay"], got["dsn"], got["status"], got["text"]) == (
        "bad.d.test[127.0.58.8]:25", "4.0.0", "deferred",
        "host bad.d.test[127.0.58.8] refused to talk to me: 554 go away")
    assert len(good.sessions) == 1 and len(bad.sessions) == 2


def test_greeting_554_no_skip_bounces(make_instance, dns_server, peers):  # noqa: F811
    peers(host="127.0.58.10", port=25, greeting="554 5.7.1 go away")
    good = peers(host="127.0.58.11", port=25)
    dns = dns_server(zone("@ MX 10 bad\n@ MX 20 good\nbad A 127.0.58.10\ngood A 127.0.58.11\n"))
    inst = make_instance()
    configure(inst, dns, smtp_skip_5xx_greeting="no")
    qid = submit(inst, ["bob@d.test"])
    got = line_for(inst, qid, "bob@d.test")
    assert (got["dsn"], got["status"], got["text"]) == (
        "5.7.1", "bounced", "host bad.d.test[127.0.58.10] refused to talk to me: 554 5.7.1 go away")
    assert good.sessions == []


def test_rcpt_mix_data_once(make_instance, peers):
    peer = peers(host="127.0.58.12", rcpt={"t@mix.test": "450 4.2.0 try later",
                                           "p@mix.test": "550 5.1.1 no such user"})
    inst = make_instance()
    configure(inst, transport=f"mix.test smtp:[127.0.58.12]:{peer.port}\n")
    qid = submit(inst, ["ok@mix.test", "t@mix.test", "p@mix.test"])
    assert line_for(inst, qid, "ok@mix.test")["status"] == "sent"
    relay = f"127.0.58.12[127.0.58.12]:{peer.port}"
    assert line_for(inst, qid, "t@mix.test") == {
        "prog": "smtp", "relay": relay, "dsn": "4.2.0", "status": "deferred",
        "text": "host 127.0.58.12[127.0.58.12] said: 450 4.2.0 try later (in reply to RCPT TO command)"}
    assert line_for(inst, qid, "p@mix.test") == {
        "prog": "smtp", "relay": relay, "dsn": "5.1.1", "status": "bounced",
        "text": "host 127.0.58.12[127.0.58.12] said: 550 5.1.1 no such user (in reply to RCPT TO command)"}
    assert [c for c in peer.sessions[0]["cmds"] if c == "DATA"] == ["DATA"]


def test_no_data_without_accepted_recipient(make_instance, peers):
    peer = peers(host="127.0.58.13", features=("SIZE 1000000",), rcpt={"x@nd.test": "550 5.1.1 nope"})
    inst = make_instance()
    configure(inst, transport=f"nd.test smtp:[127.0.58.13]:{peer.port}\n")
    qid = submit(inst, ["x@nd.test"])
    assert line_for(inst, qid, "x@nd.test")["status"] == "bounced"
    inst.wait_log(rf"{qid}: removed")
    assert "DATA" not in peer.sessions[0]["cmds"]


def test_4xx_at_end_of_data_and_timeout(make_instance, peers):
    soft = peers(host="127.0.58.14", data_reply="451 4.3.0 disk full")
    hang = peers(host="127.0.58.15", hang_at_dot=True)
    inst = make_instance()
    configure(inst, transport=f"soft.test smtp:[127.0.58.14]:{soft.port}\n"
                          f"hang.test smtp:[127.0.58.15]:{hang.port}\n",
          smtp_data_done_timeout="5s")
    qid = submit(inst, ["u@soft.test", "u@hang.test"])
    got = line_for(inst, qid, "u@soft.test")
    assert (got["dsn"], got["status"], got["text"]) == (
        "4.3.0", "deferred",
        "host 127.0.58.14[127.0.58.14] said: 451 4.3.0 disk full (in reply to end of DATA command)")
    got = line_for(inst, qid, "u@hang.test")
    assert (got["dsn"], got["status"], got["text"]) == (
        "4.4.2", "deferred",
        "conversation with 127.0.58.15[127.0.58.15] timed out while sending end of data -- "
        "message may be sent more than once")


def test_fallback_relay(make_instance, peers):
    peer = peers(host="127.0.58.17")
    inst = make_instance()
    configure(inst, relayhost="[127.0.58.16]:2525",
          smtp_fallback_relay=f"[127.0.58.17]:{peer.port}")
    qid = submit(inst, ["u@far.test"])
    got = line_for(inst, qid, "u@far.test")
    assert (got["relay"], got["status"]) == (f"127.0.58.17[127.0.58.17]:{peer.port}", "sent")


def test_relayhost_not_found_is_configuration_problem(make_instance, dns_server):  # noqa: F811
    dns = dns_server(zone("x A 127.0.58.99\n"))
    inst = make_instance()
    configure(inst, dns, relayhost="[nosuch.d.test]")
    qid = submit(inst, ["u@far.test"])
    got = line_for(inst, qid, "u@far.test")
    assert (got["dsn"], got["status"]) == ("4.3.5", "deferred")
    inst.wait_log(r"warning: relayhost configuration problem")


def test_loops_back_to_myself(make_instance, dns_server, peers):  # noqa: F811
    third = peers(host="127.0.58.20", port=25)
    dns = dns_server({
        "d.test": "@ MX 10 other\n@ MX 20 self\n@ MX 30 third\n"
                  "other TXT \"no address\"\nself A 127.0.0.1\nthird A 127.0.58.20\n",
        "r.test": "@ MX 10 other\n@ MX 20 self.d.test.\n@ MX 30 third.d.test.\n"
                  "other A 127.0.58.21\n",
        "s.test": "@ MX 10 self.d.test.\n@ MX 30 third.d.test.\n"})
    inst = make_instance()
    configure(inst, dns)
    qid = submit(inst, ["u@d.test", "u@r.test", "u@s.test"])
    assert line_for(inst, qid, "u@d.test") == {
        "prog": "smtp", "relay": "none", "dsn": "4.4.4", "status": "deferred",
        "text": "unable to find primary relay for d.test"}
    got = line_for(inst, qid, "u@r.test")
    assert (got["dsn"], got["status"], got["text"]) == (
        "4.4.1", "deferred", "connect to other.r.test[127.0.58.21]:25: Connection refused")
    assert line_for(inst, qid, "u@s.test") == {
        "prog": "smtp", "relay": "none", "dsn": "5.4.6", "status": "bounced",
        "text": "mail for s.test loops back to myself"}
    assert third.sessions == []


def test_ehlo_with_my_hostname(make_instance, peers):
    looper = peers(host="127.0.58.22", port=25, ehlo_name=SELF)
    filt = peers(host="127.0.58.22", port=0, ehlo_name=SELF)
    inst = make_instance()
    configure(inst, transport=f"loop.test smtp:[127.0.58.22]\n"
                          f"filter.test smtp:[127.0.58.22]:{filt.port}\n")
    qid = submit(inst, ["u@loop.test", "u@filter.test"])
    got = line_for(inst, qid, "u@loop.test")
    assert (got["dsn"], got["status"], got["text"]) == (
        "5.4.6", "bounced", "mail for 127.0.58.22 loops back to myself")
    inst.wait_log(r"warning: host 127\.0\.58\.22\[127\.0\.58\.22\]:25 replied to HELO/EHLO "
                  rf"with my own hostname {re.escape(SELF)}")
    assert line_for(inst, qid, "u@filter.test")["status"] == "sent"
    assert looper.sessions and looper.sessions[0]["data"] is None


def test_lmtp_tcp_and_unix(make_instance, peers):
    tcp = peers(host="127.0.58.23", lmtp_replies=["250 2.1.5 a delivered", "452 4.2.2 mailbox full"])
    inst = make_instance()
    sock = os.path.join(inst.root, "lmtp.sock")
    peers(unix=sock, lmtp_replies=["250 2.1.5 ok", "452 4.2.2 over quota"])
    os.chmod(sock, 0o777)
    configure(inst, transport=f"lt.test lmtp:inet:127.0.58.23:{tcp.port}\n"
                          f"lu.test lmtp:unix:{sock}\n")
    qid = submit(inst, ["a@lt.test", "b@lt.test"])
    got = line_for(inst, qid, "a@lt.test")
    assert (got["prog"], got["relay"], got["status"], got["text"]) == (
        "lmtp", f"127.0.58.23[127.0.58.23]:{tcp.port}", "sent", "250 2.1.5 a delivered")
    assert line_for(inst, qid, "b@lt.test") == {
        "prog": "lmtp", "relay": f"127.0.58.23[127.0.58.23]:{tcp.port}", "dsn": "4.2.2",
        "status": "deferred",
        "text": "host 127.0.58.23[127.0.58.23] said: 452 4.2.2 mailbox full "
                "(in reply to end of DATA command)"}
    assert tcp.sessions[0]["cmds"][0] == f"LHLO {SELF}"
    qid = submit(inst, ["a@lu.test", "b@lu.test"])
    got = line_for(inst, qid, "a@lu.test")
    assert (got["relay"], got["status"]) == (f"{SELF}[{sock}]", "sent")
    got = line_for(inst, qid, "b@lu.test")
    assert (got["relay"], got["status"], got["dsn"]) == (f"{SELF}[{sock}]", "deferred", "4.2.2")
    assert got["text"].endswith("(in reply to end of DATA command)")


def test_xforward_and_dsn_parameters(make_instance, peers):
    peer = peers(host="127.0.58.24",
                 features=("PIPELINING", "SIZE 1000000", "8BITMIME", "DSN",
                           "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT"))
    inst = make_instance()
    configure(inst, transport=f"xf.test smtp:[127.0.58.24]:{peer.port}\n",
              smtp_send_xforward_command="yes")
    smtp = inst.smtp(helo="client.example")
    try:
        smtp.sendmail(SENDER, ["u@xf.test"], b"Subject: x\r\n\r\nbody\r\n",
                      mail_options=["RET=HDRS", "ENVID=id+2Bx"],
                      rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;orig@xf.test"])
        smtp.quit()
    finally:
        smtp.close()
    m = inst.wait_log(r"postfix/smtp\[\d+\]: (\w+): to=<u@xf\.test>, .*status=sent")
    assert m
    cmds = peer.sessions[0]["cmds"]
    xf = [c for c in cmds if c.startswith("XFORWARD")]
    assert len(xf) == 2
    assert re.fullmatch(r"XFORWARD NAME=\S+ ADDR=127\.0\.0\.1 PORT=\d+", xf[0]), xf
    assert re.fullmatch(r"XFORWARD PROTO=ESMTP HELO=client\.example IDENT=\w+ SOURCE=REMOTE", xf[1]), xf
    mail = [c for c in cmds if c.startswith("MAIL")][0]
    assert re.fullmatch(r"MAIL FROM:<alice@example\.org> SIZE=\d+ RET=HDRS ENVID=id\+2Bx", mail), mail
    assert [c for c in cmds if c.startswith("RCPT")] == [
        "RCPT TO:<u@xf.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig@xf.test"]
