"""Scripted SMTP dialogues for the smtpd differential tests.

Each Dialogue has a name, main.cf overrides on top of BASELINE (the
spec/smtpd.md §15 baseline), and a list of client steps; play(dialogue,
host, port) runs it and returns one Reply per server reply, in order. The
same dialogues are played against Postern and Debian's Postfix by
test_smtpd_vs_postfix.py, which compares the (code, enhanced code) of each
reply line by line; differences that are deliberate are listed in
docs/smtpd-differences.md, which load_differences() reads.

Steps (see Dialogue.steps):
    "TEXT"               a command line: TEXT + CRLF, then one reply
    Step("TEXT", want)   the same, with the reply the spec states (the last
                         line, or a list of every line); "$mail_name" stands
                         for the system's mail_name (Postern or Postfix)
    OUTSIDE              XCLIENT ADDR=192.0.2.10 NAME=client.remote.test: the
                         session continues as an outside client (needs
                         smtpd_authorized_xclient_hosts = 127.0.0.1)
    Raw(bytes, n)        send BYTES as they are, then read N replies
    Body(bytes)          after 354: the content (LF becomes CRLF unless
                         raw=True) and the final CRLF.CRLF, then one reply
    READ                 read one reply the server sends unprompted
    CLOSED               expect the server to have closed the connection
                         (recorded as the reply code "closed")

DNS-dependent restrictions (RBL, unknown domains, reverse names) are not
here: they need the DNS fixture. Nothing here needs a real resolver: the
outside client's name comes from XCLIENT NAME=.

Public interface: BASELINE, DIALOGUES (list), load_differences(), Reply,
Dialogue, play(), main_cf(), Step, Raw, Body, OUTSIDE, READ, CLOSED.
Errors: play() raises OSError/TimeoutError only for a server that does not
answer within the timeout (a closed connection is a recorded result).
"""

import os
import re
import socket

# spec/smtpd.md §15 baseline, plus the two protections whose Postfix 3.7
# default differs from the spec's default (both exist in Postfix 3.7.11),
# so both systems run the same protective settings.
BASELINE = {
    "myhostname": "mx.example.test",
    "mydomain": "example.test",
    "myorigin": "example.test",
    "mydestination": "$myhostname, localhost, example.test",
    "mynetworks": "127.0.0.1/32",
    "alias_maps": "",
    "alias_database": "",
    "local_recipient_maps": "inline:{alice=1, bob=1, all=1}",
    "smtpd_authorized_xclient_hosts": "127.0.0.1",
    "smtpd_forbid_unauth_pipelining": "yes",
    "smtpd_forbid_bare_newline": "normalize",
    "smtpd_error_sleep_time": "0s",
    "relay_domains": "",
}

MSG = b"Subject: test\r\nFrom: <a@example.test>\r\n\r\nhello\r\n"


class Step:
    """A command line and, optionally, the reply the spec states for it."""

    def __init__(self, text, want=None):
        self.text = text
        self.want = want


class Raw:
    """Bytes sent as they are; N replies read afterwards."""

    def __init__(self, data, replies=1, want=None):
        self.data = data
        self.replies = replies
        self.want = want


class Body:
    """Message content after 354, then the terminator; one reply."""

    def __init__(self, data=MSG, raw=False, want=None):
        if not raw:
            data = re.sub(rb"(?<!\r)\n", b"\r\n", data)
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            data += b".\r\n"
        self.data = data
        self.want = want


OUTSIDE = "@outside"
READ = "@read"
CLOSED = "@closed"


class Reply:
    """One server reply: code (int, or "closed"), enhanced code ("" when
    none), every line's text without the code, and the step it answered."""

    def __init__(self, code, enhanced, lines, step):
        self.code = code
        self.enhanced = enhanced
        self.lines = lines
        self.step = step

    def key(self):
        return (self.code, self.enhanced)

    def text(self):
        """The last line as sent: `CODE TEXT`."""
        return "closed" if self.code == "closed" else f"{self.code} {self.lines[-1]}"

    def all_text(self):
        if self.code == "closed":
            return ["closed"]
        return [f"{self.code}{' ' if i == len(self.lines) - 1 else '-'}{line}"
                for i, line in enumerate(self.lines)]

    def __repr__(self):
        return f"Reply({self.text()!r})"


class Dialogue:
    """name, main.cf overrides (dict), steps (list), source address."""

    def __init__(self, name, config, steps, source="127.0.0.1", greeting=None, note=""):
        self.name = name
        self.config = config
        self.steps = steps
        self.source = source
        self.greeting = greeting  # the spec's greeting, when stated
        self.note = note


def main_cf(dialogue):
    """The main.cf settings of DIALOGUE: BASELINE updated by its overrides."""
    cf = dict(BASELINE)
    cf.update(dialogue.config)
    return cf


class _Conn:
    def __init__(self, host, port, source, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0))
        self.buf = b""
        self.eof = False

    def readline(self):
        while b"\n" not in self.buf:
            if self.eof:
                return None
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
                continue
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self, step):
        """One (possibly multi-line) reply, or a "closed" Reply."""
        lines = []
        code = None
        while True:
            line = self.readline()
            if line is None:
                return Reply("closed", "", [], step)
            m = re.match(r"(\d{3})([ -]?)(.*)", line)
            if not m:
                lines.append(line)
                continue
            code = int(m.group(1))
            lines.append(m.group(3))
            if m.group(2) != "-":
                break
        m = re.match(r"([245]\.\d{1,3}\.\d{1,3})(?: |$)", lines[0])
        return Reply(code, m.group(1) if m else "", lines, step)

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def close(self):
        self.sock.close()


def play(dialogue, host, port, timeout=20):
    """Run DIALOGUE against HOST:PORT; return the list of Reply (the
    greeting first). Stops early when the server closes the connection."""
    conn = _Conn(host, port, dialogue.source, timeout)
    replies = [conn.reply(-1)]
    try:
        for i, step in enumerate(dialogue.steps):
            if replies[-1].code == "closed":
                break
            if step == CLOSED:
                r = conn.reply(i)
                replies.append(r if r.code == "closed" else r)
                continue
            if step == READ:
                replies.append(conn.reply(i))
                continue
            if step == OUTSIDE:
                conn.send(b"XCLIENT ADDR=192.0.2.10 NAME=client.remote.test\r\n")
                replies.append(conn.reply(i))
                continue
            if isinstance(step, str):
                step = Step(step)
            if isinstance(step, Step):
                conn.send(step.text.encode("utf-8") + b"\r\n")
                replies.append(conn.reply(i))
            elif isinstance(step, Raw):
                conn.send(step.data)
                for _ in range(step.replies):
                    replies.append(conn.reply(i))
                    if replies[-1].code == "closed":
                        break
            elif isinstance(step, Body):
                conn.send(step.data)
                replies.append(conn.reply(i))
            else:
                raise TypeError(f"bad step {step!r}")
    finally:
        conn.close()
    return replies


def wants(dialogue):
    """{reply index: wanted text (str: last line, list: all lines)} for the
    replies whose text the spec states. Index 0 is the greeting."""
    out = {}
    if dialogue.greeting:
        out[0] = dialogue.greeting
    idx = 1
    for step in dialogue.steps:
        if step in (READ, CLOSED, OUTSIDE) or isinstance(step, str):
            idx += 1
            continue
        n = step.replies if isinstance(step, Raw) else 1
        if step.want is not None:
            w = step.want
            if isinstance(step, Raw) and isinstance(w, (list, tuple)) and n > 1:
                for j, one in enumerate(w):
                    if one is not None:
                        out[idx + j] = one
            else:
                out[idx + n - 1] = w
        idx += n
    return out


def expand(want, mail_name):
    if isinstance(want, str):
        return want.replace("$mail_name", mail_name)
    return [w.replace("$mail_name", mail_name) for w in want]


def matches(reply, want, mail_name):
    """True when REPLY has the wanted text. A want ending in "..." is a
    prefix; "ID" after "queued as " stands for any queue ID."""
    want = expand(want, mail_name)
    if isinstance(want, list):
        return reply.all_text() == want
    got = reply.text()
    pattern = re.escape(want)
    pattern = pattern.replace(r"queued\ as\ ID", r"queued\ as\ [0-9A-Za-z]+")
    if pattern.endswith(r"\.\.\."):
        return re.match(pattern[:-6], got) is not None
    return re.fullmatch(pattern, got) is not None


# ---------------------------------------------------------------------------
# The dialogues.

EHLO = "EHLO c.test"
MAIL = "MAIL FROM:<a@example.test>"
RCPT = "RCPT TO:<alice@example.test>"
QUIT = Step("QUIT", "221 2.0.0 Bye")
OK_MAIL = "250 2.1.0 Ok"
OK_RCPT = "250 2.1.5 Ok"
GREETING = "220 mx.example.test ESMTP $mail_name"
EHLO_LINES = ["250-mx.example.test", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY",
              "250-ETRN", "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN",
              "250-SMTPUTF8", "250 CHUNKING"]
EHLO_XCLIENT_LINES = EHLO_LINES[:5] + [
    "250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT"] + EHLO_LINES[5:]


def _rcpt_denied(addr, code="454 4.7.1"):
    return Step(f"RCPT TO:<{addr}>", f"{code} <{addr}>: Relay access denied")


def _txn(rcpt="alice@example.test", sender="a@example.test", want_rcpt=None):
    """EHLO, MAIL, RCPT."""
    return [EHLO, Step(f"MAIL FROM:<{sender}>", None), Step(f"RCPT TO:<{rcpt}>", want_rcpt)]


D = []


def dialogue(name, config, steps, **kw):
    D.append(Dialogue(name, config, steps, **kw))


# --- connection, greeting, generic replies (§1, §2) ---
dialogue("greeting", {}, [QUIT], greeting=GREETING)
dialogue("ehlo-default", {}, [Step(EHLO, EHLO_XCLIENT_LINES), QUIT], greeting=GREETING,
         note="the §15 baseline authorises 127.0.0.1 for XCLIENT, so XCLIENT is listed")
dialogue("ehlo-no-xclient", {"smtpd_authorized_xclient_hosts": ""},
         [Step(EHLO, EHLO_LINES), QUIT])
dialogue("helo", {}, [Step("HELO c.test", "250 mx.example.test"),
                      Step("HELO", "501 Syntax: HELO hostname"),
                      Step("EHLO", "501 Syntax: EHLO hostname"), QUIT])
dialogue("verbs-any-case", {}, ["ehlo c.test", Step("mail from:<a@example.test>", OK_MAIL),
                                Step("rcpt to:<alice@example.test>", OK_RCPT),
                                Step("rset", "250 2.0.0 Ok"), Step("quit", "221 2.0.0 Bye")])
dialogue("expn", {}, [EHLO, Step("EXPN alice", "500 5.5.2 Error: command not recognized"), QUIT])
dialogue("unknown-verb", {}, [EHLO, Step("FROB x", "500 5.5.2 Error: command not recognized"),
                              Step("", "500 5.5.2 Error: bad syntax"), QUIT])
dialogue("forbidden-get", {}, [Step("GET / HTTP/1.0", "221 2.7.0 Error: I can break rules, too. Goodbye."),
                               CLOSED])
dialogue("forbidden-post", {}, [EHLO, Step("POST /x HTTP/1.1", "221 2.7.0 Error: I can break rules, too. Goodbye."),
                                CLOSED])
dialogue("forbidden-connect", {}, [Step("CONNECT 10.0.0.1:25 HTTP/1.0",
                                        "221 2.7.0 Error: I can break rules, too. Goodbye."), CLOSED])
dialogue("forbidden-header", {}, [EHLO, Step("Subject: hello", "221 2.7.0 Error: I can break rules, too. Goodbye."),
                                  CLOSED])
dialogue("command-too-long", {}, [EHLO, Step("NOOP " + "x" * 3000,
                                              "500 5.5.2 mx.example.test Error: command too long"),
                                  Step("NOOP", "250 2.0.0 Ok"), QUIT])
dialogue("starttls-auth-absent", {}, [EHLO, Step("STARTTLS", "502 5.5.1 Error: command not implemented"),
                                      Step("AUTH PLAIN AGFAYg==", "503 5.5.1 Error: authentication not enabled"),
                                      QUIT])

# --- MAIL (§3.2) ---
dialogue("helo-required", {"smtpd_helo_required": "yes"},
         [Step(MAIL, "503 5.5.1 Error: send HELO/EHLO first"), "HELO c.test", Step(MAIL, OK_MAIL), QUIT])
dialogue("mail-without-helo", {}, [Step(MAIL, OK_MAIL), Step(RCPT, OK_RCPT), QUIT])
dialogue("mail-nested", {}, [EHLO, Step(MAIL, OK_MAIL), Step(MAIL, "503 5.5.1 Error: nested MAIL command"), QUIT])
dialogue("rcpt-without-mail", {}, [EHLO, Step(RCPT, "503 5.5.1 Error: need MAIL command"), QUIT])
dialogue("mail-syntax", {}, [EHLO, Step("MAIL TO:<a@example.test>", "501 5.5.4 Syntax: MAIL FROM:<address>"),
                             Step("MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>"),
                             Step("MAIL FROM:<a@example.test", "501 5.1.7 Bad sender address syntax"),
                             Step("MAIL FROM:<>", OK_MAIL), QUIT])
dialogue("mail-size", {"message_size_limit": "1000"},
         [EHLO, Step("MAIL FROM:<a@example.test> SIZE=5000", "552 5.3.4 Message size exceeds fixed limit"),
          Step("MAIL FROM:<a@example.test> SIZE=abc", "501 5.5.4 Bad message size syntax"),
          Step("MAIL FROM:<a@example.test> SIZE=500", OK_MAIL), QUIT])
dialogue("mail-unsupported-option", {}, [EHLO, Step("MAIL FROM:<a@example.test> FOO=1",
                                                    "555 5.5.4 Unsupported option: FOO=1"), QUIT])
dialogue("mail-parameters", {}, [EHLO, Step("MAIL FROM:<a@example.test> BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x1",
                                            OK_MAIL),
                                 Step("RCPT TO:<alice@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice@example.test",
                                      OK_RCPT), QUIT])
dialogue("mail-dsn-disabled", {"smtpd_discard_ehlo_keywords": "dsn"},
         [EHLO, Step("MAIL FROM:<a@example.test> RET=FULL", "501 5.7.1 DSN support is disabled"), QUIT])
dialogue("mail-xverp-unauthorised", {}, [EHLO, "MAIL FROM:<a@example.test> XVERP", QUIT])
dialogue("strict-rfc821-yes", {"strict_rfc821_envelopes": "yes"},
         [EHLO, Step("MAIL FROM:a@example.test", "501 5.1.7 Bad sender address syntax"),
          Step("MAIL FROM:Name <a@example.test>", "501 5.1.7 Bad sender address syntax"),
          Step("MAIL FROM:<a@example.test>", OK_MAIL), QUIT])
dialogue("strict-rfc821-no", {"strict_rfc821_envelopes": "no"},
         [EHLO, Step("MAIL FROM:a@example.test", OK_MAIL), "RSET",
          Step("MAIL FROM: Name <a@example.test>", OK_MAIL), QUIT])

# --- RCPT (§3.3, §9.2) ---
dialogue("rcpt-syntax", {}, [EHLO, MAIL, Step("RCPT FROM:<alice@example.test>", "501 5.5.4 Syntax: RCPT TO:<address>"),
                             Step("RCPT TO:<>", "501 5.1.3 Bad recipient address syntax"),
                             Step("RCPT TO:<alice@example.test", "501 5.1.3 Bad recipient address syntax"), QUIT])
dialogue("rcpt-unknown-local", {},
         [EHLO, MAIL, Step("RCPT TO:<nobody@example.test>",
                           "550 5.1.1 <nobody@example.test>: Recipient address rejected: "
                           "User unknown in local recipient table"),
          Step("RCPT TO:<postmaster>", OK_RCPT), Step("RCPT TO:<POSTMASTER>", OK_RCPT),
          Step("RCPT TO:<postmaster@example.test>", OK_RCPT),
          Step("RCPT TO:<MAILER-DAEMON@example.test>", OK_RCPT), QUIT])
dialogue("rcpt-unknown-no-table-name", {"show_user_unknown_table_name": "no"},
         [EHLO, MAIL, Step("RCPT TO:<nobody@example.test>",
                           "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown"), QUIT])
dialogue("rcpt-unknown-code", {"unknown_local_recipient_reject_code": "450"},
         [EHLO, MAIL, Step("RCPT TO:<nobody@example.test>",
                           "450 4.1.1 <nobody@example.test>: Recipient address rejected: "
                           "User unknown in local recipient table"), QUIT])
dialogue("rcpt-limit", {"smtpd_recipient_limit": "2"},
         [EHLO, MAIL, RCPT, "RCPT TO:<bob@example.test>",
          Step("RCPT TO:<all@example.test>", "452 4.5.3 Error: too many recipients"), QUIT])
dialogue("rcpt-relay-recipient-maps", {"relay_domains": "relay.test",
                                       "relay_recipient_maps": "inline:{ok@relay.test=1}"},
         [OUTSIDE, EHLO, MAIL, Step("RCPT TO:<ok@relay.test>", OK_RCPT),
          Step("RCPT TO:<no@relay.test>", "550 5.1.1 <no@relay.test>: Recipient address rejected: "
                                         "User unknown in relay recipient table"), QUIT])
dialogue("rcpt-virtual", {"virtual_mailbox_domains": "vm.test", "virtual_mailbox_maps": "inline:{a@vm.test=x}",
                          "virtual_alias_domains": "va.test", "virtual_alias_maps": "inline:{a@va.test=alice}"},
         [EHLO, MAIL, Step("RCPT TO:<a@vm.test>", OK_RCPT),
          Step("RCPT TO:<b@vm.test>", "550 5.1.1 <b@vm.test>: Recipient address rejected: "
                                     "User unknown in virtual mailbox table"),
          Step("RCPT TO:<a@va.test>", OK_RCPT),
          Step("RCPT TO:<b@va.test>", "550 5.1.1 <b@va.test>: Recipient address rejected: "
                                     "User unknown in virtual alias table"), QUIT])
dialogue("rcpt-relocated", {"relocated_maps": "inline:{carol@example.test=carol@new.test}"},
         [EHLO, MAIL, Step("RCPT TO:<carol@example.test>", "550 5.1.6 <carol@example.test>: Recipient address "
                                                         "rejected: User has moved to carol@new.test"), QUIT])
dialogue("rcpt-no-unknown-checks", {"receive_override_options": "no_unknown_recipient_checks"},
         [EHLO, MAIL, Step("RCPT TO:<nobody@example.test>", OK_RCPT), QUIT])

# --- DATA (§3.4) ---
dialogue("data-full", {}, [EHLO, Step(MAIL, OK_MAIL), Step(RCPT, OK_RCPT),
                           Step("DATA", "354 End data with <CR><LF>.<CR><LF>"),
                           Body(want="250 2.0.0 Ok: queued as ID"), QUIT], greeting=GREETING)
dialogue("data-two-messages", {}, [EHLO, MAIL, RCPT, "RCPT TO:<bob@example.test>", "DATA", Body(),
                                   MAIL, RCPT, "DATA", Body(b"Subject: two\n\n.leading dot\n..two dots\n"), QUIT])
dialogue("data-no-valid-rcpt", {}, [EHLO, MAIL, "RCPT TO:<nobody@example.test>",
                                    Step("DATA", "554 5.5.1 Error: no valid recipients"), QUIT])
dialogue("data-no-mail", {}, [EHLO, Step("DATA", "503 5.5.1 Error: need RCPT command"), QUIT])
dialogue("data-syntax", {}, [EHLO, MAIL, RCPT, Step("DATA x", "501 5.5.4 Syntax: DATA"), QUIT])
dialogue("data-too-big", {"message_size_limit": "1000"},
         [EHLO, MAIL, RCPT, "DATA", Body(b"Subject: big\n\n" + (b"x" * 70 + b"\n") * 30,
                                         want="552 5.3.4 Error: message file too big"), QUIT])
dialogue("data-too-many-hops", {"hopcount_limit": "3"},
         [EHLO, MAIL, RCPT, "DATA", Body(b"Received: a\nReceived: b\nReceived: c\nReceived: d\nSubject: x\n\nhi\n",
                                         want="554 5.4.0 Error: too many hops"), QUIT])

# --- BDAT (§3.5) ---
dialogue("bdat", {}, [EHLO, MAIL, RCPT, Raw(b"BDAT 5 LAST\r\nhello", want="250 2.0.0 Ok: 5 bytes queued as ID"),
                      QUIT])
dialogue("bdat-chunks", {}, [EHLO, MAIL, RCPT, Raw(b"BDAT 8\r\nSubject:", want="250 2.0.0 Ok: 8 bytes"),
                             Step("MAIL FROM:<b@example.test>", "503 5.5.1 Error: MAIL after BDAT"),
                             Step("RCPT TO:<bob@example.test>", "503 5.5.1 Error: RCPT after BDAT"),
                             Step("DATA", "503 5.5.1 Error: DATA after BDAT"),
                             Raw(b"BDAT 4 LAST\r\n x\r\n", want="250 2.0.0 Ok: 4 bytes queued as ID"), QUIT])
dialogue("bdat-syntax", {}, [EHLO, MAIL, RCPT, Step("BDAT x", "521 5.5.4 Syntax: BDAT count [LAST]"), CLOSED])
dialogue("bdat-discarded", {"smtpd_discard_ehlo_keywords": "chunking, silent-discard"},
         [EHLO, MAIL, RCPT, Step("BDAT 5 LAST", "521 5.5.1 Error: command not implemented"), CLOSED])

# --- RSET, NOOP, QUIT, HELP, VRFY, ETRN (§3.6) ---
dialogue("rset-noop", {}, [EHLO, MAIL, Step("RSET", "250 2.0.0 Ok"), Step(MAIL, OK_MAIL),
                           Step("NOOP", "250 2.0.0 Ok"), Step("RSET x", "501 5.5.4 Syntax: RSET"),
                           Step("NOOP x", "501 5.5.4 Syntax: NOOP"), QUIT])
dialogue("help", {}, [EHLO, Step("HELP", "214 2.0.0 Commands: ..."), QUIT])
dialogue("vrfy", {}, [EHLO, Step("VRFY alice@example.test", "252 2.0.0 alice@example.test"),
                      Step("VRFY nobody@example.test", "550 5.1.1 <nobody@example.test>: Recipient address "
                                                       "rejected: User unknown in local recipient table"),
                      Step("VRFY", "501 5.5.4 Syntax: VRFY address [SMTPUTF8]"), QUIT])
dialogue("vrfy-disabled", {"disable_vrfy_command": "yes"},
         [EHLO, Step("VRFY alice@example.test", "502 5.5.1 VRFY command is disabled"), QUIT])
dialogue("etrn", {"fast_flush_domains": "relay.test"},
         [Step("ETRN relay.test", "503 Error: send HELO/EHLO first"), EHLO,
          Step("ETRN relay.test", "250 Queuing started"),
          Step("ETRN other.test", "459 <other.test>: service unavailable"),
          Step("ETRN", "500 Syntax: ETRN domain"), MAIL,
          Step("ETRN relay.test", "503 Error: MAIL transaction in progress"), QUIT])

# --- limits (§4) ---
dialogue("error-limit", {"smtpd_soft_error_limit": "2", "smtpd_hard_error_limit": "4"},
         [EHLO, "FROB 1", "FROB 2", "FROB 3", "FROB 4",
          READ, CLOSED])
dialogue("junk-limit", {"smtpd_junk_command_limit": "2", "smtpd_hard_error_limit": "3"},
         [EHLO, "NOOP", "NOOP", "NOOP", "NOOP", "NOOP", "NOOP", CLOSED])
dialogue("timeout", {"smtpd_timeout": "2s"},
         [EHLO, Raw(b"", want="421 4.4.2 mx.example.test Error: timeout exceeded"), CLOSED])

# --- pipelining and line ends (§5) ---
dialogue("pipelining-after-ehlo", {},
         [Raw(b"EHLO x\r\nNOOP\r\n", 2, want=["554 5.5.0 Error: SMTP protocol synchronization", "closed"])])
dialogue("pipelining-before-greeting-ok", {},
         [EHLO, Raw(b"MAIL FROM:<a@example.test>\r\nRCPT TO:<alice@example.test>\r\nRSET\r\n", 3), QUIT])
dialogue("reject-unauth-pipelining", {"smtpd_forbid_unauth_pipelining": "no",
                                      "smtpd_data_restrictions": "reject_unauth_pipelining"},
         [Raw(b"HELO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n", 4,
              want=[None, None, None, "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command "
                                      "pipelining"]), QUIT])
for _i, _term in enumerate([b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r"]):
    dialogue(f"smuggling-{_i + 1}", {},
             [OUTSIDE, EHLO, MAIL, RCPT, "DATA",
              Body(b"Subject: s\r\n\r\nA" + _term + b"MAIL FROM:<x@y>\r\nRCPT TO:<bob@example.test>\r\n"
                   b"DATA\r\n\r\n.\r\n", raw=True, want="250 2.0.0 Ok: queued as ID"),
              QUIT])
dialogue("bare-lf-reject", {"smtpd_forbid_bare_newline": "reject"},
         [OUTSIDE, Raw(b"NOOP\n", want="550 5.5.2 mx.example.test Error: bare <LF> received"), CLOSED])
dialogue("bare-lf-normalize", {},
         [OUTSIDE, Raw(b"EHLO c.test\n"), Raw(b"NOOP\n", want="250 2.0.0 Ok"), QUIT])

# --- XCLIENT, XFORWARD (§11) ---
dialogue("xclient-unauthorised", {}, [Step("XCLIENT ADDR=192.0.2.10",
                                           "550 5.7.0 Error: insufficient authorization"), QUIT],
         source="127.0.0.2")
dialogue("xclient", {}, [EHLO, Step("XCLIENT ADDR=192.0.2.10", GREETING),
                         Step("XCLIENT ADDR=192.0.2.11", "550 5.7.0 Error: insufficient authorization"), QUIT])
dialogue("xclient-syntax", {}, [EHLO, Step("XCLIENT", "501 5.5.4 Syntax: XCLIENT attribute=value..."),
                                Step("XCLIENT FOO=bar", "501 5.5.4 Bad XCLIENT attribute name: FOO"),
                                Step("XCLIENT ADDR=999.1.1.1", "501 5.5.4 Bad ADDR syntax: 999.1.1.1"),
                                MAIL, Step("XCLIENT ADDR=192.0.2.10", "503 5.5.1 Error: MAIL transaction in progress"),
                                QUIT])
dialogue("xforward", {"smtpd_authorized_xforward_hosts": "127.0.0.1"},
         [EHLO, Step("XFORWARD NAME=up.test ADDR=192.0.2.7", "250 2.0.0 Ok"), MAIL, RCPT, "DATA", Body(), QUIT])
dialogue("xforward-unauthorised", {}, [EHLO, Step("XFORWARD NAME=up.test",
                                                  "550 5.7.0 Error: insufficient authorization"), QUIT])

# --- relay control (§7.1, §13) ---
dialogue("relay-default", {}, [OUTSIDE, EHLO, Step("MAIL FROM:<a@remote.test>", OK_MAIL),
                                _rcpt_denied("u@remote.test"), Step(RCPT, OK_RCPT), QUIT])
dialogue("relay-reject-unauth", {"smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination"},
         [OUTSIDE, EHLO, MAIL, _rcpt_denied("u@remote.test", "554 5.7.1"), QUIT])
dialogue("relay-mynetworks", {"smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination"},
         [EHLO, MAIL, Step("RCPT TO:<u@remote.test>", OK_RCPT), QUIT])
dialogue("relay-tricks", {},
         [OUTSIDE, EHLO, MAIL] + [_rcpt_denied(a) for a in (
             "u@remote.test", "u@remote.test@example.test", "u%remote.test@example.test",
             "remote.test!u@example.test", "u@[192.0.2.99]", "u@remote.test.")]
         + [Step("RCPT TO:<@example.test:u@remote.test>", "454 4.7.1 <u@remote.test>: Relay access denied"),
            QUIT])
dialogue("relay-soft-bounce", {"soft_bounce": "yes",
                               "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination"},
         [OUTSIDE, EHLO, MAIL, _rcpt_denied("u@remote.test", "454 4.7.1"),
          Step("RCPT TO:<nobody@example.test>", "450 4.1.1 <nobody@example.test>: Recipient address rejected: "
                                                "User unknown in local recipient table"), QUIT])
dialogue("relay-permit-auth-destination", {"smtpd_relay_restrictions": "permit_auth_destination, reject"},
         [OUTSIDE, EHLO, MAIL, Step(RCPT, OK_RCPT),
          Step("RCPT TO:<u@remote.test>", "554 5.7.1 <u@remote.test>: Recipient address rejected: Access denied"),
          QUIT])
dialogue("relay-client-access-ok", {"smtpd_relay_restrictions":
                                    "check_client_access inline:{192.0.2.10=OK}, reject_unauth_destination"},
         [OUTSIDE, EHLO, MAIL, Step("RCPT TO:<u@remote.test>", OK_RCPT),
          Step("RCPT TO:<u%remote.test@example.test>", None), QUIT])
dialogue("relay-domains-routing", {"relay_domains": "relay.test"},
         [OUTSIDE, EHLO, MAIL, Step("RCPT TO:<u@relay.test>", OK_RCPT),
          _rcpt_denied("u%remote.test@relay.test"), _rcpt_denied("remote.test!u@relay.test"), QUIT])

# --- restriction stages (§7.1) ---
CLIENT_REJECT = "554 5.7.1 <client.remote.test[192.0.2.10]>: Client host rejected: Access denied"
dialogue("stage-client-delayed", {"smtpd_client_restrictions": "check_client_access inline:{192.0.2.10=REJECT}"},
         [OUTSIDE, EHLO, Step(MAIL, OK_MAIL), Step(RCPT, CLIENT_REJECT), QUIT])
dialogue("stage-client-immediate", {"smtpd_client_restrictions": "check_client_access inline:{127.0.0.2=REJECT}",
                                    "smtpd_delay_reject": "no"},
         [Step("EHLO x", "503 5.7.0 Error: access denied for ..."), Step("MAIL FROM:<a@example.test>", None),
          QUIT], source="127.0.0.2", greeting="554 5.7.1 <...")
dialogue("stage-client-xclient-immediate", {"smtpd_client_restrictions":
                                            "check_client_access inline:{192.0.2.10=REJECT}",
                                            "smtpd_delay_reject": "no"},
         [OUTSIDE, "EHLO x", QUIT])
dialogue("stage-client-parent-domain", {"smtpd_client_restrictions":
                                        "check_client_access inline:{{remote.test=550 go away}}"},
         [OUTSIDE, EHLO, MAIL, Step(RCPT, "550 5.7.1 <client.remote.test[192.0.2.10]>: Client host rejected: "
                                         "go away"), QUIT])
dialogue("stage-client-net-prefix", {"smtpd_client_restrictions":
                                     "check_client_access inline:{192.0.2=REJECT}"},
         [OUTSIDE, EHLO, MAIL, Step(RCPT, CLIENT_REJECT), QUIT])
dialogue("stage-helo-delayed", {"smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname"},
         ["HELO foo", Step(MAIL, OK_MAIL),
          Step(RCPT, "504 5.5.2 <foo>: Helo command rejected: need fully-qualified hostname"), QUIT])
dialogue("stage-helo-immediate", {"smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname",
                                  "smtpd_delay_reject": "no"},
         [Step("HELO foo", "504 5.5.2 <foo>: Helo command rejected: need fully-qualified hostname"),
          Step("HELO foo.test", "250 mx.example.test"), QUIT])
dialogue("stage-helo-invalid", {"smtpd_helo_restrictions": "reject_invalid_helo_hostname"},
         ["HELO [1.2.3]", MAIL, Step(RCPT, "501 5.5.2 <[1.2.3]>: Helo command rejected: invalid ip address"),
          "HELO a..b", MAIL, Step(RCPT, "501 5.5.2 <a..b>: Helo command rejected: Invalid name"), QUIT])
dialogue("stage-helo-access", {"smtpd_helo_restrictions": "check_helo_access inline:{bad.test=REJECT}"},
         ["HELO x.bad.test", MAIL, Step(RCPT, "554 5.7.1 <x.bad.test>: Helo command rejected: Access denied"),
          QUIT])
dialogue("stage-sender-access", {"smtpd_sender_restrictions": "check_sender_access inline:{spam.test=REJECT, "
                                                              "sub.spam.test=DUNNO, {bad@=550 5.7.1 go away}}"},
         [EHLO, Step("MAIL FROM:<x@a.spam.test>", OK_MAIL),
          Step(RCPT, "554 5.7.1 <x@a.spam.test>: Sender address rejected: Access denied"), "RSET",
          "MAIL FROM:<bad@any.test>", Step(RCPT, "550 5.7.1 <bad@any.test>: Sender address rejected: go away"),
          "RSET", "MAIL FROM:<x@sub.spam.test>", Step(RCPT, OK_RCPT), QUIT])
dialogue("stage-sender-immediate", {"smtpd_sender_restrictions": "reject_non_fqdn_sender",
                                    "smtpd_delay_reject": "no"},
         [EHLO, Step("MAIL FROM:<a@b>", "504 5.5.2 <a@b>: Sender address rejected: need fully-qualified address"),
          Step(MAIL, OK_MAIL), QUIT])
dialogue("stage-sender-null-key", {"smtpd_sender_restrictions": "check_sender_access inline:{<>=REJECT}"},
         [EHLO, "MAIL FROM:<>", Step(RCPT, "554 5.7.1 <>: Sender address rejected: Access denied"), QUIT])
dialogue("stage-sender-user-ext", {"smtpd_sender_restrictions":
                                   "check_sender_access inline:{u@example.test=REJECT}",
                                   "recipient_delimiter": "+"},
         [EHLO, "MAIL FROM:<u+tag@example.test>", Step(RCPT, "554 5.7.1 <u+tag@example.test>: Sender address "
                                                             "rejected: Access denied"), QUIT])
dialogue("stage-recipient-defer-if-permit", {"smtpd_recipient_restrictions":
                                             "check_recipient_access inline:{{bob@example.test=DEFER_IF_PERMIT busy}}"},
         [EHLO, MAIL, Step("RCPT TO:<bob@example.test>", "450 4.7.1 <bob@example.test>: Recipient address "
                                                        "rejected: busy"), Step(RCPT, OK_RCPT), QUIT])
dialogue("stage-order", {"smtpd_client_restrictions": "check_client_access inline:{192.0.2.10=DEFER_IF_REJECT}",
                         "smtpd_sender_restrictions": "reject_non_fqdn_sender"},
         [OUTSIDE, EHLO, "MAIL FROM:<a@b>", RCPT, QUIT],
         note="Postfix 3.7 answers 504: a DEFER_IF_REJECT from the client list does not carry "
              "over to the sender list")
dialogue("stage-data", {"smtpd_data_restrictions": "reject"},
         [EHLO, MAIL, RCPT, Step("DATA", "554 5.7.1 <DATA>: Data command rejected: Access denied"), QUIT])
dialogue("stage-data-multi-bounce", {"smtpd_data_restrictions": "reject_multi_recipient_bounce"},
         [EHLO, "MAIL FROM:<>", RCPT, "RCPT TO:<bob@example.test>",
          Step("DATA", "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce"), QUIT])
dialogue("stage-end-of-data", {"smtpd_end_of_data_restrictions":
                               "check_sender_access inline:{a@example.test=REJECT}"},
         [EHLO, MAIL, Step(RCPT, OK_RCPT), "DATA",
          Body(want="554 5.7.1 <a@example.test>: Sender address rejected: Access denied"), QUIT])
dialogue("stage-etrn", {"fast_flush_domains": "relay.test", "smtpd_etrn_restrictions": "reject"},
         [EHLO, Step("ETRN relay.test", "554 5.7.1 <relay.test>: Etrn command rejected: Access denied"), QUIT])
dialogue("stage-etrn-client", {"fast_flush_domains": "relay.test",
                               "smtpd_client_restrictions": "check_client_access inline:{192.0.2.10=REJECT}"},
         [OUTSIDE, EHLO, Step("ETRN relay.test", CLIENT_REJECT), QUIT])
dialogue("stage-vrfy-recipient", {"smtpd_recipient_restrictions": "check_recipient_access "
                                                                  "inline:{bob@example.test=REJECT}"},
         [EHLO, Step("VRFY bob@example.test", "554 5.7.1 <bob@example.test>: Recipient address rejected: "
                                              "Access denied"), QUIT])

# --- restrictions of the catalogue (§7.2-§7.5) ---
dialogue("restriction-defer", {"smtpd_recipient_restrictions": "defer"},
         [EHLO, MAIL, Step(RCPT, "450 4.3.2 <alice@example.test>: Recipient address rejected: Try again later"),
          QUIT])
dialogue("restriction-defer-if-permit", {"smtpd_recipient_restrictions": "defer_if_permit, permit"},
         [EHLO, MAIL, Step(RCPT, "450 4.7.0 <alice@example.test>: Recipient address rejected: "
                                 "defer_if_permit requested"), QUIT])
dialogue("restriction-defer-if-reject", {"smtpd_recipient_restrictions": "defer_if_reject, reject"},
         [EHLO, MAIL, Step(RCPT, "450 4.7.0 <alice@example.test>: Recipient address rejected: "
                                 "defer_if_reject requested"), QUIT])
dialogue("restriction-warn-if-reject", {"smtpd_sender_restrictions": "warn_if_reject reject_non_fqdn_sender"},
         [EHLO, "MAIL FROM:<a@b>", Step(RCPT, OK_RCPT), QUIT])
dialogue("restriction-class", {"smtpd_restriction_classes": "insiders",
                               "insiders": "check_sender_access inline:{example.test=OK}, reject",
                               "smtpd_recipient_restrictions":
                               "check_recipient_access inline:{all@example.test=insiders}"},
         [EHLO, "MAIL FROM:<x@remote.test>", Step("RCPT TO:<all@example.test>",
                                                  "554 5.7.1 <all@example.test>: Recipient address rejected: "
                                                  "Access denied"), "RSET",
          "MAIL FROM:<x@example.test>", Step("RCPT TO:<all@example.test>", OK_RCPT), QUIT])
dialogue("restriction-plaintext", {"smtpd_recipient_restrictions": "reject_plaintext_session"},
         [EHLO, MAIL, Step(RCPT, "450 4.7.1 Session encryption is required"), QUIT])
dialogue("restriction-non-fqdn-recipient", {"smtpd_recipient_restrictions": "reject_non_fqdn_recipient"},
         [EHLO, MAIL, Step("RCPT TO:<alice@localhost>", "504 5.5.2 <alice@localhost>: Recipient address "
                                                         "rejected: need fully-qualified address"), QUIT])
dialogue("restriction-unlisted-sender", {"smtpd_sender_restrictions": "reject_unlisted_sender"},
         [EHLO, "MAIL FROM:<nobody@example.test>",
          Step(RCPT, "550 5.1.0 <nobody@example.test>: Sender address rejected: "
                     "User unknown in local recipient table"), QUIT])
dialogue("restriction-removed", {"smtpd_recipient_restrictions": "check_relay_domains"},
         [EHLO, MAIL, Step(RCPT, "451 4.3.5 Server configuration error"), QUIT])
dialogue("restriction-unknown", {"smtpd_recipient_restrictions": "reject_unknown_sender"},
         [EHLO, MAIL, Step(RCPT, "451 4.3.5 Server configuration error"), QUIT])
dialogue("restriction-reject-code", {"smtpd_recipient_restrictions": "reject", "reject_code": "550"},
         [EHLO, MAIL, Step(RCPT, "550 5.7.1 <alice@example.test>: Recipient address rejected: Access denied"),
          QUIT])
dialogue("restriction-reject-footer", {"smtpd_recipient_restrictions": "reject",
                                       "smtpd_reject_footer": "see http://example.test/"},
         [EHLO, MAIL, RCPT, QUIT])

# --- access-map actions (§8.1), one dialogue each: the action comes from
# check_sender_access for the sender a@example.test, evaluated at RCPT; the
# message then goes through DATA when the RCPT is accepted.
ACTIONS = [
    ("ok", "OK", OK_RCPT),
    ("relay", "RELAY", OK_RCPT),
    ("digits", "12345", OK_RCPT),
    ("reject", "REJECT", "554 5.7.1 <a@example.test>: Sender address rejected: Access denied"),
    ("reject-text", "REJECT go away", "554 5.7.1 <a@example.test>: Sender address rejected: go away"),
    ("defer", "DEFER", "450 4.7.1 <a@example.test>: Sender address rejected: Access denied"),
    ("defer-text", "DEFER later", "450 4.7.1 <a@example.test>: Sender address rejected: later"),
    ("defer-if-permit", "DEFER_IF_PERMIT", "450 4.7.1 <a@example.test>: Sender address rejected: "
                                           "Service unavailable"),
    ("defer-if-reject", "DEFER_IF_REJECT", OK_RCPT),
    ("4nn", "451 try later", "451 4.7.1 <a@example.test>: Sender address rejected: try later"),
    ("5nn-enhanced", "553 5.7.9 nope", "553 5.7.9 <a@example.test>: Sender address rejected: nope"),
    ("5nn-address-code", "550 5.1.1 moved", "550 5.1.7 <a@example.test>: Sender address rejected: moved"),
    ("421", "421 closing", None),
    ("521", "521 closing", None),
    ("dunno", "DUNNO", OK_RCPT),
    ("hold", "HOLD", OK_RCPT),
    ("discard", "DISCARD", OK_RCPT),
    ("filter", "FILTER smtp:[127.0.0.1]:10099", OK_RCPT),
    ("redirect", "REDIRECT bob@example.test", OK_RCPT),
    ("bcc", "BCC bob@example.test", OK_RCPT),
    ("prepend", "PREPEND X-Test: yes", OK_RCPT),
    ("warn", "WARN watch this", OK_RCPT),
    ("info", "INFO note this", OK_RCPT),
    ("restriction-list", "reject_non_fqdn_recipient", None),
    ("lowercase", "reject", "554 5.7.1 <a@example.test>: Sender address rejected: Access denied"),
]
for _name, _action, _want in ACTIONS:
    _steps = [EHLO, MAIL, Step(RCPT, _want), "RCPT TO:<bob@example.test>"]
    if _want == OK_RCPT:
        _steps += ["DATA", Body()]
    if _name in ("421", "521"):
        _steps = [EHLO, MAIL, Step(RCPT, f"{_action[:3]} 4.7.1 <a@example.test>: Sender address rejected: closing"
                                   if _name == "421" else
                                   f"{_action[:3]} 5.7.1 <a@example.test>: Sender address rejected: closing"),
                  CLOSED]
    if _name == "restriction-list":
        _steps = [EHLO, MAIL, "RCPT TO:<bob@localhost>", Step(RCPT, OK_RCPT), QUIT]
    elif _name not in ("421", "521"):
        _steps.append(QUIT)
    dialogue(f"action-{_name}", {"smtpd_sender_restrictions":
                                 f"check_sender_access inline:{{{{a@example.test={_action}}}}}"}, _steps)
dialogue("action-defer-if-reject-then-reject",
         {"smtpd_sender_restrictions": "check_sender_access inline:{a@example.test=DEFER_IF_REJECT}, reject"},
         [EHLO, MAIL, Step(RCPT, "450 4.7.1 <a@example.test>: Sender address rejected: Service unavailable"),
          QUIT])
dialogue("action-recipient-address-code",
         {"smtpd_recipient_restrictions": "check_recipient_access inline:{{bob@example.test=550 5.1.7 no}}"},
         [EHLO, MAIL, Step("RCPT TO:<bob@example.test>", "550 5.1.3 <bob@example.test>: Recipient address "
                                                        "rejected: no"), QUIT])
dialogue("action-access-map-codes", {"access_map_reject_code": "550", "access_map_defer_code": "451",
                                     "smtpd_recipient_restrictions":
                                     "check_recipient_access inline:{bob@example.test=REJECT, all@example.test=DEFER}"},
         [EHLO, MAIL, Step("RCPT TO:<bob@example.test>", "550 5.7.1 <bob@example.test>: Recipient address "
                                                        "rejected: Access denied"),
          Step("RCPT TO:<all@example.test>", "451 4.7.1 <all@example.test>: Recipient address rejected: "
                                             "Access denied"), QUIT])

DIALOGUES = D

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                   "docs", "smtpd-differences.md")


def _code(cell):
    """"250 2.0.0" -> (250, "2.0.0"); "503" -> (503, ""); "closed"."""
    cell = cell.strip().strip("`")
    if cell == "closed":
        return ("closed", "")
    parts = cell.split()
    return (int(parts[0]), parts[1] if len(parts) > 1 else "")


def load_differences(path=DOC):
    """The deliberate differences listed in docs/smtpd-differences.md.

    Returns (codes, texts): codes = {(dialogue, reply index): (postern key,
    postfix key, reason)} from the "Reply code differences" table; texts =
    {(dialogue, reply index): reason} from the "Text differences" table
    (same codes, other words; only the spec check uses them). Reply index 0
    is the greeting."""
    codes, texts = {}, {}
    section = None
    with open(path) as f:
        for line in f:
            if line.startswith("## "):
                section = line[3:].strip().lower()
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.startswith("|") or cells[0] in ("Dialogue", "") or set(cells[0]) <= set("-: "):
                continue
            name, idx = cells[0].strip("`"), int(cells[1])
            if section == "reply code differences":
                codes[(name, idx)] = (_code(cells[2]), _code(cells[3]), cells[4])
            elif section == "text differences":
                texts[(name, idx)] = cells[2]
    return codes, texts
