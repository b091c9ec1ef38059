"""cleanup end to end: queue.md section 4 and acceptance checks 2-17.

Each test starts an instance whose master.cf runs only cleanup (the queue
manager is not part of this issue, so messages stay in incoming/), sends
messages straight to private/cleanup as pickup or smtpd would
(Instance.cleanup_submit), and reads the result the way an administrator
does: the reply, `postcat -q`, the queue directories and the log.
"""

import re
import threading

import pytest

import postern

MASTER_CF = "cleanup unix n - n - 0 cleanup\n"
SMTP_ATTRS = {"rewrite_context": "remote", "log_client_name": "client.example",
              "log_client_address": "192.0.2.7", "log_message_origin": "client.example[192.0.2.7]",
              "log_protocol_name": "ESMTP", "log_helo_name": "helo.example"}


@pytest.fixture
def mta(make_instance):
    """An instance running cleanup; main.cf extras via mta.configure()."""
    inst = make_instance()
    inst.write_master_cf(MASTER_CF)

    def configure(settings="", files=None):
        for name, text in (files or {}).items():
            inst.write_file(name, text)
        inst.write_main_cf(settings)
        inst.start()

    inst.configure = configure
    return inst


def parse_postcat(text):
    """postcat output -> dict: sender, recipients [(orig, rcpt)], headers, body, attrs."""
    out = {"sender": None, "recipients": [], "attrs": {}, "content": []}
    section, orig = None, None
    for line in text.split("\n"):
        m = re.match(r"\*\*\* (ENVELOPE RECORDS|MESSAGE CONTENTS|HEADER EXTRACTED|MESSAGE FILE END) ", line)
        if m:
            section = m.group(1)
            continue
        if section == "MESSAGE CONTENTS":
            out["content"].append(line)
            continue
        name, _, value = line.partition(": ")
        if name == "sender":
            out["sender"] = value
        elif name == "original_recipient":
            orig = value
        elif name == "recipient":
            out["recipients"].append((orig, value))
            orig = None
        elif name == "named_attribute":
            k, _, v = value.partition("=")
            out["attrs"][k] = v
    blank = out["content"].index("") if "" in out["content"] else len(out["content"])
    out["headers"] = out["content"][:blank]
    out["body"] = out["content"][blank + 1:]
    return out


def queued(mta, reply):
    """The parsed queue file of an accepted message."""
    assert reply["status"] == 0, reply
    assert reply["queue_id"] in mta.queue_ids(), mta.queue_ids()
    return parse_postcat(mta.postcat(reply["queue_id"]))


def rcpts(msg):
    return [r for _, r in msg["recipients"]]


# --- 4.9 headers added and removed, checks 2-4 -------------------------

def test_local_submission_gets_date_message_id_and_from(mta):
    mta.configure()
    reply = mta.cleanup_submit("alice", ["bob"], "Subject: t\n\nhi\n")
    msg = queued(mta, reply)
    qid = reply["queue_id"]
    assert msg["sender"] == "alice@mail.example.com"
    assert rcpts(msg) == ["bob@mail.example.com"]
    names = [h.split(":")[0] for h in msg["headers"] if not h.startswith((" ", "\t"))]
    assert names.count("Date") == 1 and names.count("From") == 1
    mid = [h for h in msg["headers"] if h.startswith("Message-Id: ")]
    assert len(mid) == 1 and re.fullmatch(rf"Message-Id: <\d{{14}}\.{qid}@mail\.example\.com>", mid[0])
    assert "From: alice@mail.example.com" in msg["headers"]
    assert not any(h.startswith(("To:", "Cc:")) for h in msg["headers"])  # check 2: no To: added
    assert msg["body"][0] == "hi"
    mta.wait_log(rf"cleanup\[\d+\]: {qid}: message-id=<\d{{14}}\.{qid}@mail\.example\.com>")


def test_full_name_goes_into_the_added_from(mta):
    mta.configure()
    msg = queued(mta, mta.cleanup_submit("alice", ["bob"], "Subject: t\n\nhi\n", fullname="Alice Q. User"))
    assert 'From: "Alice Q. User" <alice@mail.example.com>' in msg["headers"]


def test_null_sender_and_dropped_headers(mta):
    """Check 3: Return-Path and Bcc are removed; the sender stays null."""
    mta.configure()
    msg = queued(mta, mta.cleanup_submit("", ["alice"], "Return-Path: <x@y>\nBcc: z@y\nSubject: t\n\nbody\n"))
    assert msg["sender"] == ""
    assert not any(h.lower().startswith(("return-path:", "bcc:")) for h in msg["headers"])


def test_remote_message_gets_nothing_added(mta):
    """Check 4: remote context -> no Date/From/Message-Id; log message-id=<>."""
    mta.configure()
    reply = mta.cleanup_submit("s@client.example", ["alice@mail.example.com"], "Subject: t\n\nhi\n",
                               attrs=SMTP_ATTRS)
    msg = queued(mta, reply)
    assert msg["headers"] == ["Subject: t"]
    mta.wait_log(rf"{reply['queue_id']}: message-id=<>$")


def test_undisclosed_recipients_header_only_when_set(mta):
    mta.configure("undisclosed_recipients_header = To: undisclosed-recipients:;\n")
    msg = queued(mta, mta.cleanup_submit("alice", ["bob"], "Subject: t\n\nhi\n"))
    assert "To: undisclosed-recipients:;" in msg["headers"]


def test_hop_count_limit(mta):
    """Check 17: 50 Received: headers -> too many hops, nothing queued."""
    mta.configure()
    content = "".join(f"Received: from h{i}.example by x.example; Mon, 1 Jan 2024 00:00:00 +0000\n"
                      for i in range(50)) + "Subject: loop\n\nbody\n"
    reply = mta.cleanup_submit("a@example.com", ["b@example.com"], content, attrs=SMTP_ATTRS)
    assert reply["status"] != 0 and reply["status"] & 16, reply  # CLEANUP_STAT_HOPS
    assert mta.queue_ids() == []
    mta.wait_log(r"warning: \w+: message rejected: hopcount exceeded")


def test_message_size_limit(mta):
    """Check 16: a 2000-byte message with message_size_limit = 1000."""
    mta.configure("message_size_limit = 1000\n")
    reply = mta.cleanup_submit("a@example.com", ["b@example.com"], "Subject: big\n\n" + "x" * 70 * 28 + "\n",
                               attrs=SMTP_ATTRS)
    assert reply["status"] & 4, reply  # CLEANUP_STAT_SIZE
    assert mta.queue_ids() == []


# --- 4.2 standard form, check 5 --------------------------------------

@pytest.mark.parametrize("settings,rcpt,expected", [
    ("", "bob@host", "bob@host"),
    ("append_dot_mydomain = yes\n", "bob@host", "bob@host.example.com"),
    ("", "bob", "bob@mail.example.com"),
    ("myorigin = $mydomain\n", "bob", "bob@example.com"),
    ("", "site.example!bob", "bob@site.example"),
    ("", "bob%site.example", "bob@site.example"),
    ("", "bob@site.example.", "bob@site.example"),
])
def test_standard_form(mta, settings, rcpt, expected):
    mta.configure(settings)
    assert rcpts(queued(mta, mta.cleanup_submit("alice", [rcpt], "Subject: t\n\nhi\n"))) == [expected]


def test_standard_form_of_header_addresses(mta):
    """Local context: header addresses get the standard form; phrases and
    comments stay."""
    mta.configure()
    msg = queued(mta, mta.cleanup_submit("alice", ["bob"], "To: Carol <carol%site.example>, dave (Dave),\n"
                                         " <@a.example,@b.example:erin@site.example>\nSubject: t\n\nhi\n"))
    i = msg["headers"].index("To: Carol <carol@site.example>, dave@mail.example.com (Dave),")
    assert msg["headers"][i + 1] == "\t<erin@site.example>", msg["headers"]


def test_rewritten_header_is_folded(mta):
    """A rewritten address list longer than a line is folded at commas."""
    mta.configure()
    msg = queued(mta, mta.cleanup_submit("alice", ["bob"], "To: aaaaaaaa, bbbbbbbb, cccccccc, dddddddd, eeeeeeee\n"
                                         "Subject: t\n\nhi\n"))
    i = msg["headers"].index("To: aaaaaaaa@mail.example.com, bbbbbbbb@mail.example.com,")
    assert msg["headers"][i + 1:i + 3] == ["\tcccccccc@mail.example.com, dddddddd@mail.example.com,",
                                           "\teeeeeeee@mail.example.com"]


# --- 4.4 canonical maps, checks 6-7 ----------------------------------

def test_sender_canonical_then_canonical(mta):
    mta.configure(f"sender_canonical_maps = inline:{{alice=alice.smith@example.com}}\n"
                  f"canonical_maps = inline:{{alice.smith@example.com=a.smith@example.com}}\n")
    msg = queued(mta, mta.cleanup_submit("alice", ["bob@example.net"], "From: alice\nSubject: t\n\nhi\n"))
    assert msg["sender"] == "a.smith@example.com"
    assert "From: a.smith@example.com" in msg["headers"]


def test_canonical_nesting_limit(mta):
    """Check 7: a 12-step chain is not accepted (temporary failure)."""
    chain = ", ".join(f"u{i}@example.com=u{i + 1}@example.com" for i in range(12))
    mta.configure(f"canonical_maps = inline:{{{chain}}}\n")
    reply = mta.cleanup_submit("u0@example.com", ["bob@example.net"], "Subject: t\n\nhi\n")
    assert reply["status"] & 64, reply  # CLEANUP_STAT_DEFER
    assert reply["reason"].startswith("4."), reply
    mta.wait_log(r"warning: \w+: unreasonable canonical_maps map nesting for u\d+@example\.com"
                 r" -- message not accepted, try again later")
    assert mta.queue_ids() == []


def test_unreadable_table_defers(mta):
    """A table that cannot be opened is a temporary failure, never a loss."""
    mta.configure(f"canonical_maps = hash:{mta.root}/missing\n")
    reply = mta.cleanup_submit("alice", ["bob@example.net"], "Subject: t\n\nhi\n")
    assert reply["status"] & 64 and reply["reason"].startswith("4."), reply
    assert mta.queue_ids() == []


# --- 4.5 masquerading, check 8 -----------------------------------------

def test_masquerading(mta):
    mta.configure("masquerade_domains = !it.example.com, example.com\nmasquerade_exceptions = root\n")
    cases = {"u@a.b.example.com": "u@example.com", "u@x.it.example.com": "u@x.it.example.com",
             "root@a.example.com": "root@a.example.com"}
    for sender, expected in cases.items():
        msg = queued(mta, mta.cleanup_submit(sender, ["u@a.example.com"], "Subject: t\n\nhi\n"))
        assert msg["sender"] == expected
        assert rcpts(msg) == ["u@a.example.com"]  # envelope recipients: not in masquerade_classes


# --- 4.6 - 4.8: BCC, virtual aliases, duplicates, checks 9-11 -------------

def test_virtual_alias_expansion_keeps_original_recipient(mta):
    mta.configure("virtual_alias_maps = inline:{ {info@v.test = a@x.test, b@x.test} }\n"
                  "virtual_alias_domains = v.test\n")
    msg = queued(mta, mta.cleanup_submit("alice", ["info@v.test"], "Subject: t\n\nhi\n"))
    assert sorted(msg["recipients"]) == [("info@v.test", "a@x.test"), ("info@v.test", "b@x.test")]


def test_virtual_alias_self_reference_is_kept(mta):
    mta.configure("virtual_alias_maps = inline:{ {list@v.test = list@v.test, c@x.test} }\n")
    msg = queued(mta, mta.cleanup_submit("alice", ["list@v.test"], "Subject: t\n\nhi\n"))
    assert sorted(rcpts(msg)) == ["c@x.test", "list@v.test"]


def test_always_bcc_adds_one_recipient(mta):
    mta.configure("always_bcc = arch@example.com\n")
    msg = queued(mta, mta.cleanup_submit("alice", ["bob@example.net"], "Subject: t\n\nhi\n"))
    assert sorted(rcpts(msg)) == ["arch@example.com", "bob@example.net"]
    internal = mta.cleanup_submit("alice", ["bob@example.net"], "Subject: t\n\nhi\n",
                                  flags=postern.CLEANUP_FLAG_MAP_OK)
    assert rcpts(queued(mta, internal)) == ["bob@example.net"]  # notices get no BCC


def test_duplicate_recipients_written_once(mta):
    mta.configure()
    msg = queued(mta, mta.cleanup_submit("alice", ["bob@example.net", "bob@example.net"], "Subject: t\n\nhi\n"))
    assert rcpts(msg) == ["bob@example.net"]


def test_no_address_mappings(mta):
    mta.configure("receive_override_options = no_address_mappings\nalways_bcc = arch@example.com\n"
                  "canonical_maps = inline:{bob@example.net=robert@example.net}\n")
    # The client folds receive_override_options into its flags (pickup, smtpd).
    msg = queued(mta, mta.cleanup_submit("alice", ["bob@example.net"], "Subject: t\n\nhi\n",
                                         flags=postern.CLEANUP_FLAG_FILTER))
    assert rcpts(msg) == ["bob@example.net"]


def test_extract_recipients_from_headers(mta):
    """sendmail -t: To/Cc/Bcc recipients are added; Bcc is removed."""
    mta.configure()
    flags = postern.CLEANUP_FLAG_MASK_EXTERNAL | postern.CLEANUP_FLAG_EXTRACT
    msg = queued(mta, mta.cleanup_submit("alice", ["b@x.test"], "To: <@r.example:a@x.test>\nCc: C <c@x.test>\nBcc: d@x.test\n"
                                         "Subject: t\n\nhi\n", flags=flags))
    assert sorted(rcpts(msg)) == ["a@x.test", "b@x.test", "c@x.test", "d@x.test"]
    assert not any(h.startswith("Bcc:") for h in msg["headers"])


def test_no_recipients(mta):
    mta.configure()
    reply = mta.cleanup_submit("alice", [], "Subject: t\n\nhi\n")
    assert reply["status"] & 32, reply  # CLEANUP_STAT_RCPT
    assert mta.queue_ids() == []


# --- 4.10 content inspection, checks 12-15 ----------------------------

def test_header_checks_reject_with_text(mta):
    mta.configure(f"header_checks = regexp:{mta.path}/hc\n",
                  files={"hc": "/^Subject:.*viagra/ REJECT Go away\n"})
    reply = mta.cleanup_submit("s@client.example", ["r@mail.example.com"], "Subject: cheap viagra\n\nbody\n",
                               attrs=SMTP_ATTRS)
    assert reply["status"] & 8 and reply["reason"] == "5.7.1 Go away", reply
    mta.wait_log(rf"{reply['queue_id']}: reject: header Subject: cheap viagra from client\.example\[192\.0\.2\.7\];"
                 r" from=<s@client\.example> to=<r@mail\.example\.com> proto=ESMTP helo=<helo\.example>:"
                 r" 5\.7\.1 Go away")
    assert mta.queue_ids() == []


def test_header_checks_reject_default_text(mta):
    mta.configure(f"header_checks = regexp:{mta.path}/hc\n", files={"hc": "/^Subject:.*viagra/ REJECT\n"})
    reply = mta.cleanup_submit("s@client.example", ["r@mail.example.com"], "Subject: viagra\n\nbody\n",
                               attrs=SMTP_ATTRS)
    assert reply["reason"] == "5.7.1 message content rejected", reply


def test_body_checks_hold(mta):
    """Check 13: HOLD puts the file into hold/."""
    mta.configure(f"body_checks = regexp:{mta.path}/bc\n", files={"bc": "/^secret/ HOLD\n"})
    reply = mta.cleanup_submit("alice", ["bob@example.net"], "Subject: t\n\nsecret plans\n")
    assert reply["status"] == 0, reply
    assert mta.queue_ids("hold") == [reply["queue_id"]] and mta.queue_ids() == []
    mta.wait_log(rf"{reply['queue_id']}: hold: body secret plans from local;")


def test_ignore_and_prepend(mta):
    """Check 14."""
    mta.configure(f"header_checks = regexp:{mta.path}/hc\n",
                  files={"hc": "/^X-Debug:/ IGNORE\n/^Subject:/ PREPEND X-Seen: 1\n"})
    msg = queued(mta, mta.cleanup_submit("alice", ["bob@example.net"], "X-Debug: yes\nSubject: t\n\nhi\n"))
    assert not any(h.startswith("X-Debug") for h in msg["headers"])
    i = msg["headers"].index("Subject: t")
    assert msg["headers"][i - 1] == "X-Seen: 1"


def test_redirect_is_recorded(mta):
    """Check 15 (the queue manager honours it with issue 5)."""
    mta.configure(f"header_checks = regexp:{mta.path}/hc\n",
                  files={"hc": "/^Subject:/ REDIRECT sink@example.com\n"})
    msg = queued(mta, mta.cleanup_submit("alice", ["bob@example.net"], "Subject: t\n\nhi\n"))
    assert msg["attrs"].get("redirect") == "sink@example.com"


def test_discard(mta):
    mta.configure(f"body_checks = regexp:{mta.path}/bc\n", files={"bc": "/^drop me/ DISCARD\n"})
    reply = mta.cleanup_submit("alice", ["bob@example.net"], "Subject: t\n\ndrop me\n")
    assert reply["status"] == 0, reply
    assert mta.queue_ids() == [] and mta.queue_ids("hold") == []
    mta.wait_log(rf"{reply['queue_id']}: discard: body drop me from local;")


def test_mime_header_checks_see_part_headers(mta):
    mta.configure(f"mime_header_checks = regexp:{mta.path}/mh\n",
                  files={"mh": "/^Content-Type:.*name=.*\\.exe/ REJECT no executables\n"})
    content = ("Subject: t\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
               "--b1\nContent-Type: text/plain\n\nhello\n"
               "--b1\nContent-Type: application/octet-stream; name=\"x.exe\"\n\nAAAA\n--b1--\n")
    reply = mta.cleanup_submit("alice", ["bob@example.net"], content)
    assert reply["status"] & 8 and reply["reason"] == "5.7.1 no executables", reply


# --- durability and concurrency ------------------------------------------

def test_concurrent_clients_all_committed(mta):
    """Many clients at once (group commit): every accepted message is a
    complete (0700) file, each once."""
    mta.configure()
    replies = []

    def client(i):
        replies.append(mta.cleanup_submit("alice", [f"r{i}@example.net"], f"Subject: {i}\n\nhi\n"))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["status"] for r in replies) == [0] * 20
    assert sorted(r["queue_id"] for r in replies) == mta.queue_ids()
