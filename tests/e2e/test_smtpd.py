"""End-to-end tests of the SMTP server's core protocol (spec/smtpd.md §1-§6,
§11; acceptance checks of §15 that do not need the restriction engine).

Each test starts an instance whose master.cf has no qmgr, so accepted
messages stay in incoming/ and are read back with postcat. Clients talk
raw SMTP over sockets from 127.0.0.1 (in mynetworks) or 127.0.0.2
("outside": not in mynetworks, not exempt from the bare <LF> policy).
"""

import re
import time

import pytest

import postern
from smtpchat import SmtpChat

HOST = "mx.example.test"

BASE_CF = {
    "mydestination": "$myhostname, localhost, example.test",
    "mynetworks": "127.0.0.1/32",
    "alias_maps": "",
    "local_recipient_maps": "inline:{alice=1, bob=1, all=1}",
    "smtpd_authorized_xclient_hosts": "127.0.0.1",
}

EHLO_DEFAULT = [
    f"250-{HOST}", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY", "250-ETRN",
    "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN", "250-SMTPUTF8", "250 CHUNKING",
]


def master_cf(inst):
    """The stock master.cf without qmgr (messages stay in incoming/)."""
    return "".join(line + "\n" for line in inst.default_master_cf().splitlines()
                   if not line.startswith("qmgr "))


@pytest.fixture
def mx(make_instance):
    """start(extra main.cf settings) -> a running instance."""
    made = {}

    def start(**extra):
        inst = make_instance(hostname=HOST)
        settings = dict(BASE_CF)
        settings.update(extra)
        inst.write_main_cf(settings)
        inst.write_master_cf(master_cf(inst))
        inst.start()
        made["inst"] = inst
        return inst

    return start


def connect(inst, source="127.0.0.1"):
    c = SmtpChat(inst.smtp_port, source=source, timeout=20)
    assert c.greeting_lines == [f"220 {HOST} ESMTP Postern"]
    return c


def transaction(c, rcpts=("alice@example.test",), body="Subject: t\r\n\r\nhello\r\n",
                mail="MAIL FROM:<a@example.test>"):
    assert c.one(mail) == "250 2.1.0 Ok"
    for r in rcpts:
        assert c.one(f"RCPT TO:<{r}>") == "250 2.1.5 Ok"
    assert c.one("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    c.send(body + ".\r\n")
    reply = c.reply_lines()
    m = re.fullmatch(r"250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)", reply[0])
    assert m, reply
    return m.group(1)


def headers_and_body(inst, qid):
    """postcat -q ID -hb: the message as stored."""
    return inst.postcat(qid, "-h", "-b")


def test_greeting_ehlo_helo(mx):
    inst = mx()
    assert connect(inst, "127.0.0.2").lines("EHLO c.test") == EHLO_DEFAULT
    c = connect(inst)
    assert c.lines("EHLO c.test") == EHLO_DEFAULT[:5] + [
        "250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT"] + EHLO_DEFAULT[5:]
    assert c.one("HELO c.test") == f"250 {HOST}"
    assert c.one("HELO") == "501 Syntax: HELO hostname"
    assert c.one("EHLO") == "501 Syntax: EHLO hostname"
    assert c.one("EXPN alice") == "500 5.5.2 Error: command not recognized"
    assert c.one("RSET") == "250 2.0.0 Ok"
    assert c.one("RSET x") == "501 5.5.4 Syntax: RSET"
    assert c.one("NOOP") == "250 2.0.0 Ok"
    assert c.one("HELP").startswith("214 2.0.0 Commands: ")
    assert c.one("QUIT") == "221 2.0.0 Bye"
    assert c.closed()
    inst.wait_log(r"disconnect from \S+\[127\.0\.0\.1\] helo=1/2 ehlo=1/2 rset=1/2 noop=1 "
                  r"help=1 quit=1 unknown=0/1 commands=6/10$")


def test_forbidden_and_header_commands(mx):
    inst = mx()
    c = connect(inst)
    assert c.one("GET / HTTP/1.0") == "221 2.7.0 Error: I can break rules, too. Goodbye."
    assert c.closed()
    inst.wait_log(r"warning: non-SMTP command from \S+\[127\.0\.0\.1\]: GET / HTTP/1\.0")
    c = connect(inst)
    assert c.one("Subject: hello") == "221 2.7.0 Error: I can break rules, too. Goodbye."
    assert c.closed()


def test_long_line_and_bad_syntax(mx):
    inst = mx(line_length_limit="600")
    c = connect(inst)
    assert c.one("NOOP " + "x" * 2000) == f"500 5.5.2 {HOST} Error: command too long"
    assert c.one("NOOP") == "250 2.0.0 Ok"
    assert c.one("MAIL FROM:<a@b") == "501 5.1.7 Bad sender address syntax"
    assert c.one("\"unterminated") == "500 5.5.2 Error: bad syntax"


def test_helo_required_nested_mail_need_mail(mx):
    inst = mx(smtpd_helo_required="yes")
    c = connect(inst)
    assert c.one("MAIL FROM:<a@example.test>") == "503 5.5.1 Error: send HELO/EHLO first"
    c.lines("EHLO c.test")
    assert c.one("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"
    assert c.one("MAIL FROM:<a@example.test>") == "503 5.5.1 Error: nested MAIL command"
    c2 = connect(inst)
    c2.lines("EHLO c.test")
    assert c2.one("RCPT TO:<alice@example.test>") == "503 5.5.1 Error: need MAIL command"
    assert c2.one("DATA") == "503 5.5.1 Error: need RCPT command"


def test_message_received_header_and_log(mx):
    inst = mx()
    c = connect(inst)
    c.lines("EHLO c.test")
    qid = transaction(c, body="Subject: t\r\n\r\n..dotted\r\nline\r\n")
    assert c.one("QUIT") == "221 2.0.0 Bye"
    inst.wait_log(r"disconnect from (\S+)\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5$")
    inst.wait_log(rf"{qid}: client=\S+\[127\.0\.0\.1\]$")
    name = re.search(r"connect from (\S+)\[127\.0\.0\.1\]", inst.log()).group(1)
    text = headers_and_body(inst, qid)
    lines = text.splitlines()
    assert lines[0] == f"Received: from c.test ({name} [127.0.0.1])"
    assert lines[1] == f"\tby {HOST} (Postern) with ESMTP id {qid}"
    assert re.fullmatch(r"\tfor <alice@example\.test>; \w{3}, [ \d]\d \w{3} \d{4} \d\d:\d\d:\d\d "
                        r"[-+]\d{4} \(.+\)", lines[2]), lines[2]
    assert ".dotted" in lines and "..dotted" not in lines and "line" in lines


def test_two_recipients_received(mx):
    inst = mx()
    c = connect(inst)
    c.lines("HELO c.test")
    qid = transaction(c, rcpts=("alice@example.test", "bob@example.test"))
    lines = headers_and_body(inst, qid).splitlines()
    assert lines[1] == f"\tby {HOST} (Postern) with SMTP id {qid};"
    assert re.fullmatch(r"\t\w{3}, .*", lines[2])
    assert "for <" not in "\n".join(lines[:3])


def test_no_valid_recipients_and_postmaster(mx):
    inst = mx()
    c = connect(inst, "127.0.0.2")
    c.lines("EHLO c.test")
    assert c.one("MAIL FROM:<a@remote.test>") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<u@remote.test>") == "454 4.7.1 <u@remote.test>: Relay access denied"
    assert c.one("DATA") == "554 5.5.1 Error: no valid recipients"
    assert c.one("RCPT TO:<Postmaster>") == "250 2.1.5 Ok"
    inst.wait_log(r"\w+: client=\S+\[127\.0\.0\.2\]$")


def test_size_limits(mx):
    inst = mx(message_size_limit="1000")
    c = connect(inst)
    ehlo = c.lines("EHLO c.test")
    assert "250-SIZE 1000" in ehlo
    assert c.one("MAIL FROM:<a@example.test> SIZE=5000") == "552 5.3.4 Message size exceeds fixed limit"
    assert c.one("MAIL FROM:<a@example.test> SIZE=x") == "501 5.5.4 Bad message size syntax"
    assert c.one("MAIL FROM:<a@example.test> SIZE=500") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.one("DATA").startswith("354")
    c.send("Subject: big\r\n\r\n" + ("x" * 70 + "\r\n") * 30 + ".\r\n")
    assert c.reply_lines() == ["552 5.3.4 Error: message file too big"]
    assert c.one("NOOP") == "250 2.0.0 Ok"
    inst.wait_queue_empty(timeout=10)


def test_mail_parameters(mx):
    inst = mx()
    c = connect(inst)
    c.lines("EHLO c.test")
    assert c.one("MAIL FROM:<a@example.test> FOO=1") == "555 5.5.4 Unsupported option: FOO=1"
    assert c.one("MAIL FROM:<a@example.test> AUTH=<> AUTH=<>") == "503 5.5.4 Error: multiple AUTH= options"
    assert c.one("MAIL FROM:<a@example.test> BODY=9BIT") == "501 5.5.4 Unsupported BODY parameter"
    assert c.one("MAIL") == "501 5.5.4 Syntax: MAIL FROM:<address>"
    assert c.one("MAIL FROM: Some Name <a@example.test>") == "250 2.1.0 Ok"
    assert c.one("RSET") == "250 2.0.0 Ok"
    assert c.one("MAIL FROM:<>") == "250 2.1.0 Ok"


def test_dsn_parameters_reach_queue_file(mx):
    inst = mx()
    c = connect(inst)
    c.lines("EHLO c.test")
    assert c.one("MAIL FROM:<a@example.test> RET=HDRS ENVID=abc+2Bdef BODY=8BITMIME") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<alice@example.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;alice+40example.test") \
        == "250 2.1.5 Ok"
    assert c.one("RCPT TO:<bob@example.test> NOTIFY=NEVER,SUCCESS") \
        == "501 5.5.4 Error: Bad NOTIFY parameter syntax"
    assert c.one("DATA").startswith("354")
    c.send("Subject: dsn\r\n\r\nbody\r\n.\r\n")
    qid = re.match(r"250 2\.0\.0 Ok: queued as (\w+)", c.reply_lines()[0]).group(1)
    env = inst.postcat(qid, "-e")
    assert "envelope_id: abc+def" in env or "named_attribute: envelope_id=abc+def" in env, env
    assert "dsn_ret=2" in env or "dsn_ret: 2" in env, env
    assert "encoding=8bitmime" in env or "encoding: 8bitmime" in env, env
    assert "dsn_original_recipient: rfc822;alice@example.test" in env, env
    assert "dsn_notify_flags: 10" in env, env


def test_recipient_limit_and_strict(mx):
    inst = mx(smtpd_recipient_limit="2", strict_rfc821_envelopes="yes")
    c = connect(inst)
    c.lines("EHLO c.test")
    assert c.one("MAIL FROM:a@example.test") == "501 5.1.7 Bad sender address syntax"
    assert c.one("MAIL FROM:<a@example.test>") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.one("RCPT TO:<bob@example.test>") == "250 2.1.5 Ok"
    assert c.one("RCPT TO:<all@example.test>") == "452 4.5.3 Error: too many recipients"


def test_not_strict_bare_address(mx):
    inst = mx()
    c = connect(inst)
    c.lines("EHLO c.test")
    assert c.one("MAIL FROM:a@example.test") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:alice@example.test") == "250 2.1.5 Ok"
    assert c.one("RCPT TO:<>") == "501 5.1.3 Bad recipient address syntax"


def test_vrfy(mx):
    inst = mx()
    c = connect(inst)
    assert c.one("VRFY alice@example.test") == "252 2.0.0 alice@example.test"
    assert c.one("VRFY") == "501 5.5.4 Syntax: VRFY address [SMTPUTF8]"
    inst2 = mx(disable_vrfy_command="yes")
    c2 = connect(inst2)
    assert c2.one("VRFY alice@example.test") == "502 5.5.1 VRFY command is disabled"
    assert "250-VRFY" not in c2.lines("EHLO c.test")


def test_etrn(mx):
    inst = mx(fast_flush_domains="relay.test")
    c = connect(inst)
    assert c.one("ETRN relay.test") == "503 Error: send HELO/EHLO first"
    c.lines("EHLO c.test")
    assert c.one("ETRN relay.test") == "250 Queuing started"
    assert c.one("ETRN other.test") == "459 <other.test>: service unavailable"
    assert c.one("ETRN") == "500 Syntax: ETRN domain"
    assert c.one("ETRN bad..name!") == "501 Error: invalid parameter syntax"


def test_error_limits_tarpit(mx):
    inst = mx(smtpd_soft_error_limit="2", smtpd_hard_error_limit="4", smtpd_error_sleep_time="1s")
    c = connect(inst)
    for i in range(4):
        start = time.monotonic()
        assert c.one(f"BOGUS{i}") == "500 5.5.2 Error: command not recognized"
        if i >= 2:
            assert time.monotonic() - start >= 0.9
    assert c.reply_lines() == [f"421 4.7.0 {HOST} Error: too many errors"]
    assert c.closed()
    inst.wait_log(r"too many errors after UNKNOWN from \S+\[127\.0\.0\.1\]")
    inst.wait_log(r"disconnect from \S+ unknown=0/4 commands=0/4$")


def test_timeout(mx):
    inst = mx(smtpd_timeout="2s")
    c = connect(inst)
    c.lines("EHLO c.test")
    assert c.reply_lines() == [f"421 4.4.2 {HOST} Error: timeout exceeded"]
    assert c.closed()
    inst.wait_log(r"timeout after EHLO from \S+\[127\.0\.0\.1\]")


def test_lost_connection_after_data(mx):
    inst = mx()
    c = connect(inst)
    c.lines("EHLO c.test")
    c.lines("MAIL FROM:<a@example.test>")
    c.lines("RCPT TO:<alice@example.test>")
    c.lines("DATA")
    c.send("Subject: x\r\n\r\n12345")
    c.close()
    inst.wait_log(r"lost connection after DATA \(\d+ bytes\) from \S+\[127\.0\.0\.1\]")
    inst.wait_log(r"disconnect from \S+\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=0/1 commands=3/4$")


def test_unauth_pipelining_disconnects(mx):
    inst = mx()
    c = connect(inst)
    c.send("EHLO x\r\nNOOP\r\n")
    assert c.reply_lines() == ["554 5.5.0 Error: SMTP protocol synchronization"]
    assert c.closed()
    inst.wait_log(r"improper command pipelining after EHLO from \S+\[127\.0\.0\.1\]: NOOP\\r\\n")


def test_pipelining_after_ehlo_allowed(mx):
    inst = mx()
    c = connect(inst)
    c.lines("EHLO x")
    c.send("MAIL FROM:<a@example.test>\r\nRCPT TO:<alice@example.test>\r\nRSET\r\n")
    assert [c.reply_lines()[0] for _ in range(3)] == ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.0.0 Ok"]


@pytest.mark.parametrize("fake", ["\r\n.\n", "\n.\r\n", "\r.\r", "\n.\n"])
def test_smuggling_outside(mx, fake):
    inst = mx()
    c = connect(inst, "127.0.0.2")
    c.lines("EHLO c.test")
    assert c.one("MAIL FROM:<a@remote.test>") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.one("DATA").startswith("354")
    c.send("Subject: s\r\n\r\nA" + fake + "MAIL FROM:<x@y>\n\r\n.\r\n")
    reply = c.reply_lines()
    qid = re.match(r"250 2\.0\.0 Ok: queued as (\w+)", reply[0]).group(1)
    assert c.one("QUIT") == "221 2.0.0 Bye"
    assert "MAIL FROM:<x@y>" in inst.postcat(qid, "-b")
    assert inst.queue_ids() == [qid]
    inst.wait_log(r"127\.0\.0\.2\] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5$")


def test_bare_lf_reject(mx):
    inst = mx(smtpd_forbid_bare_newline="reject")
    c = connect(inst, "127.0.0.2")
    c.send("NOOP\n")
    assert c.reply_lines() == [f"550 5.5.2 {HOST} Error: bare <LF> received"]
    assert c.closed()
    inst.wait_log(r"reject: \S+ from \S+\[127\.0\.0\.2\]: 550 5\.5\.2 .*bare <LF> received")
    # Exempt (mynetworks): accepted.
    c = connect(inst)
    c.send("NOOP\n")
    assert c.reply_lines() == ["250 2.0.0 Ok"]


def test_bare_lf_note(mx):
    inst = mx(smtpd_forbid_bare_newline="note")
    c = connect(inst, "127.0.0.2")
    c.send("NOOP\n")
    assert c.reply_lines() == ["250 2.0.0 Ok"]
    assert c.one("QUIT") == "221 2.0.0 Bye"
    inst.wait_log(r"disconnect from \S+\[127\.0\.0\.2\] noop=1 quit=1 commands=2 notes=bare_lf$")


def test_bdat(mx):
    inst = mx()
    c = connect(inst)
    c.lines("EHLO c.test")
    assert c.one("BDAT x") == "521 5.5.4 Syntax: BDAT count [LAST]"
    assert c.closed()
    c = connect(inst)
    c.lines("EHLO c.test")
    c.lines("MAIL FROM:<a@example.test>")
    c.lines("RCPT TO:<alice@example.test>")
    part1 = b"Subject: chunks\r\n\r\nfirst li"
    part2 = b"ne\r\nsecond\r\n"
    c.send(b"BDAT %d\r\n" % len(part1) + part1)
    assert c.reply_lines() == [f"250 2.0.0 Ok: {len(part1)} bytes"]
    assert c.one("MAIL FROM:<b@example.test>") == "503 5.5.1 Error: MAIL after BDAT"
    assert c.one("DATA") == "503 5.5.1 Error: DATA after BDAT"
    c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
    reply = c.reply_lines()[0]
    m = re.fullmatch(r"250 2\.0\.0 Ok: (\d+) bytes queued as (\w+)", reply)
    assert m, reply
    body = inst.postcat(m.group(2), "-b")
    assert "first line\nsecond" in body
    c.lines("MAIL FROM:<a@example.test>")
    c.lines("RCPT TO:<alice@example.test>")
    c.send(b"BDAT 5 LAST\r\nhello")
    assert re.fullmatch(r"250 2\.0\.0 Ok: 5 bytes queued as \w+", c.reply_lines()[0])


def test_bdat_discarded(mx):
    inst = mx(smtpd_discard_ehlo_keywords="chunking, silent-discard")
    c = connect(inst)
    assert "250 CHUNKING" not in c.lines("EHLO c.test")
    assert c.one("BDAT 5 LAST") == "521 5.5.1 Error: command not implemented"
    assert c.closed()
    assert "discarding EHLO keywords" not in inst.log()


def test_discard_dsn_logged(mx):
    inst = mx(smtpd_discard_ehlo_keywords="dsn")
    c = connect(inst)
    lines = c.lines("EHLO c.test")
    assert "250-DSN" not in lines
    assert c.one("MAIL FROM:<a@example.test> RET=FULL") == "501 5.7.1 DSN support is disabled"
    inst.wait_log(r"\[127\.0\.0\.1\]: discarding EHLO keywords: DSN")


def test_discard_enhanced_status_codes(mx):
    """Without ENHANCEDSTATUSCODES the replies carry no X.Y.Z codes."""
    inst = mx(smtpd_discard_ehlo_keywords="enhancedstatuscodes")
    c = connect(inst)
    assert "250-ENHANCEDSTATUSCODES" not in c.lines("EHLO c.test")
    assert c.one("MAIL FROM:<a@example.test>") == "250 Ok"
    assert c.one("RCPT TO:<nobody@example.test>") == (
        "550 <nobody@example.test>: Recipient address rejected: User unknown in local recipient table")
    assert c.one("QUIT") == "221 Bye"


def test_xclient(mx):
    inst = mx()
    c = connect(inst, "127.0.0.2")
    assert c.one("XCLIENT ADDR=192.0.2.10") == "550 5.7.0 Error: insufficient authorization"
    c = connect(inst)
    assert "250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT" in c.lines("EHLO x")
    assert c.one("XCLIENT") == "501 5.5.4 Syntax: XCLIENT attribute=value..."
    assert c.one("XCLIENT FOO=1") == "501 5.5.4 Bad XCLIENT attribute name: FOO"
    assert c.one("XCLIENT ADDR=999.1.1.1") == "501 5.5.4 Bad ADDR syntax: 999.1.1.1"
    assert c.one("XCLIENT ADDR=192.0.2.10 NAME=client.remote.test") == f"220 {HOST} ESMTP Postern"
    c.lines("EHLO c.test")
    assert c.one("MAIL FROM:<a@remote.test>") == "250 2.1.0 Ok"
    assert c.one("RCPT TO:<u@remote.test>") == "454 4.7.1 <u@remote.test>: Relay access denied"
    assert c.one("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    assert c.one("DATA").startswith("354")
    c.send("Subject: x\r\n\r\nx\r\n.\r\n")
    qid = re.match(r"250 2\.0\.0 Ok: queued as (\w+)", c.reply_lines()[0]).group(1)
    assert c.one("QUIT") == "221 2.0.0 Bye"
    inst.wait_log(rf"{qid}: client=client\.remote\.test\[192\.0\.2\.10\]$")
    head = inst.postcat(qid, "-h").splitlines()
    assert head[0] == "Received: from c.test (client.remote.test [192.0.2.10])"
    inst.wait_log(r"disconnect from client\.remote\.test\[192\.0\.2\.10\] ehlo=2 xclient=1/4 mail=1 "
                  r"rcpt=1/2 data=1 quit=1 commands=7/11$")


def test_xclient_ipv6_received(mx):
    inst = mx()
    c = connect(inst)
    assert c.one("XCLIENT ADDR=IPV6:2001:db8::1 NAME=[UNAVAILABLE] HELO=h.test") == f"220 {HOST} ESMTP Postern"
    c.lines("MAIL FROM:<a@example.test>")
    assert c.one("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    c.lines("DATA")
    c.send("Subject: x\r\n\r\nx\r\n.\r\n")
    qid = re.match(r"250 2\.0\.0 Ok: queued as (\w+)", c.reply_lines()[0]).group(1)
    head = inst.postcat(qid, "-h").splitlines()
    assert head[0] == "Received: from h.test (unknown [IPv6:2001:db8::1])"


def test_xforward(mx):
    inst = mx(smtpd_authorized_xforward_hosts="127.0.0.1")
    c = connect(inst)
    assert "250-XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT" in c.lines("EHLO c.test")
    assert c.one("XFORWARD NAME=up.test ADDR=192.0.2.7") == "250 2.0.0 Ok"
    qid = transaction(c)
    inst.wait_log(rf"{qid}: client=\S+\[127\.0\.0\.1\], orig_client=up\.test\[192\.0\.2\.7\]$")
    c2 = connect(inst, "127.0.0.2")
    assert c2.one("XFORWARD NAME=up.test") == "550 5.7.0 Error: insufficient authorization"


def test_hide_client_session(mx):
    inst = mx(smtpd_hide_client_session="yes")
    c = connect(inst)
    c.lines("EHLO c.test")
    qid = transaction(c)
    head = inst.postcat(qid, "-h").splitlines()
    assert head[0] == f"Received: by {HOST} (Postern) id {qid}"
    assert head[1].startswith("\tfor <alice@example.test>; ")


def test_soft_bounce_and_footer(mx):
    inst = mx(soft_bounce="yes", smtpd_reject_footer="Contact postmaster")
    c = connect(inst, "127.0.0.2")
    c.lines("EHLO c.test")
    c.lines("MAIL FROM:<a@remote.test>")
    assert c.lines("RCPT TO:<u@remote.test>") == [
        "454-4.7.1 <u@remote.test>: Relay access denied", "454 4.7.1 Contact postmaster"]


def test_sendmail_bs(make_instance):
    inst = make_instance(hostname=HOST)
    inst.write_main_cf(BASE_CF)
    inst.write_master_cf(master_cf(inst))
    inst.start()
    script = ("EHLO local.test\r\nMAIL FROM:<u@example.test>\r\nRCPT TO:<alice@example.test>\r\n"
              "DATA\r\nSubject: bs\r\n\r\nvia -bs\r\n.\r\nQUIT\r\n")
    result = inst.run("sendmail", "-bs", input=script, timeout=30)
    out = result.stdout.splitlines()
    assert out[0] == f"220 {HOST} ESMTP Postern", result
    assert "250 2.1.5 Ok" in out
    qid = re.search(r"250 2\.0\.0 Ok: queued as (\w+)", result.stdout).group(1)
    assert out[-1] == "221 2.0.0 Bye"
    assert "via -bs" in inst.postcat(qid, "-b")
    inst.wait_log(rf"{qid}: client=localhost\[127\.0\.0\.1\]$")
