"""Open-relay matrix (spec/smtpd.md §13, §15 check 12): an outside client
tries every routed-address trick against the default configuration and
relays nothing.

The outside client connects from 127.0.0.1 and sends `XCLIENT
ADDR=192.0.2.10 NAME=client.remote.test` (smtpd_authorized_xclient_hosts =
127.0.0.1), then EHLO, `MAIL FROM:<a@remote.test>` and one RCPT TO per
session (so the error limits never interfere). Configuration: Postern's
defaults plus mydestination = example.test, mynetworks = 127.0.0.1/32.
Every RCPT must be refused (4xx or 5xx); a session whose RCPT was
accepted goes on to DATA, so an accepted relay would leave a queue file,
and the queue must be empty afterwards. The same matrix runs against
Debian's Postfix 3.7 as a reference (needs root), which proves the matrix
itself.
"""

import shutil
import tempfile

import pytest

import smtpd_dialogues as sd
import smtpd_systems as ss

CONFIG = {
    "myhostname": "mx.example.test",
    "mydestination": "example.test",
    "mynetworks": "127.0.0.1/32",
    "smtpd_authorized_xclient_hosts": "127.0.0.1",
}

# RCPT TO arguments; "<...>" is added unless the form starts with "<" or
# is marked raw with a leading "=".
FORMS = [
    "u@remote.test", "U@REMOTE.TEST", "u@Remote.Test", "u@remote.test.", "u@remote.test..",
    "u@REMOTE.TEST.", "u%remote.test@example.test", "u%remote.test@EXAMPLE.TEST",
    "u%remote.test@example.test.", "u%remote.test", "u%remote.test%example.test@example.test",
    "u%remote.test.@example.test", "remote.test!u@example.test", "remote.test!u",
    "REMOTE.TEST!u@EXAMPLE.TEST", "remote.test!u%example.test@example.test", "example.test!remote.test!u",
    "u@remote.test@example.test", "u@remote.test@example.test.", "u@example.test@remote.test",
    "@example.test:u@remote.test", "@example.test,@example.test:u@remote.test",
    "@remote.test:u@remote.test", "@example.test:u%remote.test@example.test",
    '"u@remote.test"@example.test', '"u%remote.test"@example.test', '"remote.test!u"@example.test',
    '"u@remote.test"', '"u"@remote.test', '"u@remote.test"@EXAMPLE.TEST', "u\\@remote.test@example.test",
    "u\\%remote.test@example.test", '"u\\@remote.test"@example.test',
    "u@[192.0.2.99]", "u@[192.0.2.99].", "u%[192.0.2.99]@example.test", "u@[192.0.2.99]@example.test",
    "u@[IPv6:2001:db8::1]", "u%[IPv6:2001:db8::1]@example.test", "u@192.0.2.99",
    "u@localhost.remote.test", "u@example.test.remote.test", "u@remote.test.example.test",
    "u@mx.example.test", "postmaster@remote.test", "postmaster%remote.test@example.test",
    "MAILER-DAEMON@remote.test", "u@xn--rmote-fsa.test", "u@remote.test%localhost@example.test",
    "=RCPT TO: <u@remote.test>", "=RCPT TO:u@remote.test", "=rcpt to:<u@remote.test> NOTIFY=NEVER",
    "=RCPT TO:<u@remote.test> ORCPT=rfc822;alice@example.test",
]


def _dialogue(form):
    rcpt = form[1:] if form.startswith("=") else f"RCPT TO:<{form}>"
    return sd.Dialogue(f"relay {form}", {}, [sd.OUTSIDE, "EHLO c.test", "MAIL FROM:<a@remote.test>", rcpt])


def run_matrix(server):
    """[(form, rcpt Reply)] after starting SERVER with CONFIG; also sends
    DATA in any session whose RCPT was accepted."""
    server.configure(CONFIG)
    server.start()
    results = []
    for form in FORMS:
        d = _dialogue(form)
        replies = sd.play(d, "127.0.0.1", server.port, timeout=20)
        rcpt = replies[4] if len(replies) > 4 else replies[-1]
        if rcpt.code == 250:  # would be a relay: complete it so the queue shows it
            sd.play(sd.Dialogue("relay-data", {}, d.steps + ["DATA", sd.Body(), "QUIT"]),
                    "127.0.0.1", server.port, timeout=20)
        results.append((form, rcpt))
    # Control: the same outside client may send to a local address, so
    # the refusals above are relay decisions, not a broken session.
    control = sd.play(_dialogue("postmaster@example.test"), "127.0.0.1", server.port, timeout=20)
    results.append(("control postmaster@example.test", control[4]))
    return results


def _check(server, results):
    assert len(FORMS) >= 40
    control = results.pop()
    assert control[1].text() == "250 2.1.5 Ok", control
    relayed = [f"{form}: {r.text()}" for form, r in results
               if not (isinstance(r.code, int) and 400 <= r.code < 600)]
    assert not relayed, "accepted or unanswered:\n" + "\n".join(relayed)
    assert ss.queued(server.queue_dir) == [], "a message was queued"


def test_open_relay_postern():
    server = ss.PosternSmtpd(procs=10)
    try:
        results = run_matrix(server)
        _check(server, results)
        # The decisive reply for a plain remote address (§15 check 10).
        assert dict(results)["u@remote.test"].text() == "454 4.7.1 <u@remote.test>: Relay access denied"
    finally:
        err = server.close()
    assert not err, err


def test_open_relay_postfix_reference():
    work = tempfile.mkdtemp(prefix="postern-relay-")
    server = ss.PostfixSmtpd(work, procs=10)
    try:
        results = run_matrix(server)
        _check(server, results)
        assert dict(results)["u@remote.test"].text() == "454 4.7.1 <u@remote.test>: Relay access denied"
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)
