"""postcat end-to-end tests (queue.md 9.5, check 27).

Queue files are built here in Python, record by record, with the encoding
of src/global/record.h (type byte, base-128 length, data) and the layout
of rec_type.h, then shown with `postcat` as a file argument, on standard
input, and with -q from a queue directory (hashed paths included). The
expected output follows Postfix 3.7's postcat: the four `***` markers,
`name: value` envelope lines, asctime() times, NORM records ending a line
and CONT records continuing it.
"""

import os

import pytest

import postern

# Record types (src/global/rec_type.h).
SIZE, TIME, CTIME, FULL, FROM, ATTR = "C", "T", "c", "F", "S", "A"
ORCP, DSN_ORCPT, DSN_NOTIFY, RCPT, DONE, DRCP = "O", "o", "n", "R", "D", "d"
WARN, MESG, NORM, CONT, XTRA, END = "W", "M", "N", "L", "X", "E"

ARRIVAL = 1795274392  # Sat Nov 21 15:19:52 2026 UTC
CREATED = 1795274396  # Sat Nov 21 15:19:56 2026 UTC
ENV = {"TZ": "UTC"}


record = postern.encode_record


def queue_file(envelope, content, extracted=()):
    """A complete queue file; the SIZE record's offsets are computed."""
    def build(size_data):
        out = record(SIZE, size_data)
        out += b"".join(record(t, d) for t, d in envelope)
        data_offset = len(out)
        out += record(MESG)
        body = b"".join(record(t, d) for t, d in content)
        out += body
        xtra_offset = len(out)
        out += record(XTRA)
        out += b"".join(record(t, d) for t, d in extracted)
        out += record(END)
        return out, data_offset, xtra_offset

    msg_size = sum(len(d) + (1 if t == NORM else 0) for t, d in content)
    rcpts = sum(1 for t, _ in list(envelope) + list(extracted) if t == RCPT)
    _, data_offset, xtra_offset = build("%15d %15d %15d %15d %15d" % (0, 0, 0, 0, 0))
    size = "%15d %15d %15d %15d %15d" % (msg_size, data_offset, rcpts, 0, xtra_offset)
    assert len(size) == 79
    return build(size)[0]


SAMPLE_ENVELOPE = [
    (TIME, f"{ARRIVAL} 123456"),
    (CTIME, f"{CREATED} 5"),
    (ATTR, "rewrite_context=local"),
    (ATTR, "log_client_name=localhost"),
    (FULL, "Alice Example"),
    (FROM, "alice@example.com"),
    (DSN_NOTIFY, "10"),
    (DSN_ORCPT, "rfc822;bob@example.net"),
    (ORCP, "bob@example.net"),
    (RCPT, "bob@example.net"),
    (DONE, "carol@example.net"),
]
SAMPLE_CONTENT = [
    (NORM, "Received: by mail.example.com (Postern, from userid 1000)"),
    (NORM, "\tid DBA3F1A9; Sat, 21 Nov 2026 15:19:52 +0000 (UTC)"),
    (NORM, "Subject: test"),
    (CONT, "X-Long: " + "a" * 20),
    (NORM, "a" * 10),
    (NORM, ""),
    (NORM, "hello"),
    (CONT, "world " + "b" * 10),
    (CONT, "c" * 5),
    (NORM, "d" * 3),
]
SAMPLE_EXTRACTED = [
    (ORCP, "dave@example.org"),
    (RCPT, "dave@example.org"),
    (DRCP, "eve@example.org"),
]

ENVELOPE_LINES = [
    "message_size:" + "%16d%16d%16d%16d%16d",  # filled in by expected()
    "message_arrival_time: Sat Nov 21 15:19:52 2026",
    "create_time: Sat Nov 21 15:19:56 2026",
    "named_attribute: rewrite_context=local",
    "named_attribute: log_client_name=localhost",
    "sender_fullname: Alice Example",
    "sender: alice@example.com",
    "dsn_notify_flags: 10",
    "dsn_original_recipient: rfc822;bob@example.net",
    "original_recipient: bob@example.net",
    "recipient: bob@example.net",
    "done_recipient: carol@example.net",
]
HEADER_LINES = [
    "Received: by mail.example.com (Postern, from userid 1000)",
    "\tid DBA3F1A9; Sat, 21 Nov 2026 15:19:52 +0000 (UTC)",
    "Subject: test",
    "X-Long: " + "a" * 30,
]
BODY_LINES = ["", "hello", "world " + "b" * 10 + "c" * 5 + "ddd"]
EXTRACTED_LINES = [
    "original_recipient: dave@example.org",
    "recipient: dave@example.org",
    "canceled_recipient: eve@example.org",
]


def sample():
    return queue_file(SAMPLE_ENVELOPE, SAMPLE_CONTENT, SAMPLE_EXTRACTED)


def size_line(data):
    """The message_size line postcat prints for queue file DATA."""
    assert data[0:2] == b"C\x4f"
    return "message_size: " + data[2:2 + 79].decode()


def expected(data, path, env=True, head=True, body=True):
    """postcat's full output for the sample file at PATH."""
    lines = []
    if env:
        lines += [f"*** ENVELOPE RECORDS {path} ***", size_line(data)] + ENVELOPE_LINES[1:]
        lines.append(f"*** MESSAGE CONTENTS {path} ***")
    if head:
        lines += HEADER_LINES
    if body:
        lines += BODY_LINES
    if env:
        lines.append(f"*** HEADER EXTRACTED {path} ***")
        lines += EXTRACTED_LINES
        lines.append(f"*** MESSAGE FILE END {path} ***")
    return "".join(line + "\n" for line in lines)


@pytest.fixture
def qdir(config_dir, tmp_path):
    """config_dir with queue_directory = a scratch queue (stock subdirectories)."""
    queue = tmp_path / "queue"
    for sub in ("maildrop", "incoming", "active", "deferred", "hold", "saved",
                "corrupt", "defer"):
        (queue / sub).mkdir(parents=True)
    config_dir.write_main_cf({"queue_directory": str(queue)})
    config_dir.queue = queue
    return config_dir


def place(qdir, relpath, data):
    """Write DATA as queue file RELPATH under the queue directory."""
    path = qdir.queue / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o700)
    return str(path)


def test_file_argument_default_output(qdir, tmp_path):
    data = sample()
    path = str(tmp_path / "qf")
    with open(path, "wb") as f:
        f.write(data)
    r = qdir.run("postcat", path, env=ENV, check=True)
    assert r.stdout == expected(data, path)
    assert r.stderr == ""
    # The SIZE record names the real offsets of MESG and XTRA.
    fields = size_line(data).split()[1:]
    assert data[int(fields[1]):int(fields[1]) + 1] == b"M"
    assert data[int(fields[4]):int(fields[4]) + 1] == b"X"


def test_queue_search_hashed_deferred(qdir):
    """Check 27: the four markers in order, PATH relative to the queue."""
    data = sample()
    place(qdir, "deferred/D/DBA3F1A9", data)
    r = qdir.run("postcat", "-q", "DBA3F1A9", env=ENV, check=True)
    assert r.stdout == expected(data, "deferred/D/DBA3F1A9")
    markers = [line for line in r.stdout_lines if line.startswith("***")]
    assert markers == [f"*** {m} deferred/D/DBA3F1A9 ***" for m in
                       ("ENVELOPE RECORDS", "MESSAGE CONTENTS", "HEADER EXTRACTED",
                        "MESSAGE FILE END")]


@pytest.mark.parametrize("queue", ["maildrop", "incoming", "active", "hold", "saved"])
def test_queue_search_every_queue(qdir, queue):
    data = sample()
    place(qdir, f"{queue}/ABC123", data)
    r = qdir.run("postcat", "-q", "ABC123", env=ENV, check=True)
    assert r.stdout_lines[0] == f"*** ENVELOPE RECORDS {queue}/ABC123 ***"
    assert r.stdout == expected(data, f"{queue}/ABC123")


def test_queue_search_long_id_hash(qdir):
    """Long IDs hash by the hex microseconds (123456 = 0x1E240 -> "1")."""
    qdir.write_main_cf({"queue_directory": str(qdir.queue), "hash_queue_depth": "2"})
    data = sample()
    place(qdir, "deferred/1/E/4dCdfw0sf8z9HdB", data)
    r = qdir.run("postcat", "-eq", "4dCdfw0sf8z9HdB", env=ENV, check=True)
    assert r.stdout_lines[0] == "*** ENVELOPE RECORDS deferred/1/E/4dCdfw0sf8z9HdB ***"


@pytest.mark.parametrize("flags,env,head,body", [
    ("-bq", False, False, True),
    ("-hq", False, True, False),
    ("-bhq", False, True, True),
    ("-eq", True, False, False),
    ("-ehq", True, True, False),
    ("-beq", True, False, True),
    ("-behq", True, True, True),
])
def test_sections(qdir, flags, env, head, body):
    data = sample()
    place(qdir, "incoming/DBA3F1A9", data)
    r = qdir.run("postcat", flags, "DBA3F1A9", env=ENV, check=True)
    assert r.stdout == expected(data, "incoming/DBA3F1A9", env=env, head=head, body=body)


def test_offsets_and_decimal_types(qdir):
    data = queue_file([(TIME, f"{ARRIVAL} 0"), (FROM, "s@x.test"), (RCPT, "r@x.test")],
                      [(CONT, "Subject: "), (NORM, "hi"), (NORM, ""), (NORM, "body")])
    place(qdir, "incoming/AB12", data)
    r = qdir.run("postcat", "-odq", "AB12", env=ENV, check=True)
    rcpt_off = data.index(b"R\x08r@x.test")
    mesg_off = rcpt_off + 10
    assert r.stdout_lines == [
        "*** ENVELOPE RECORDS incoming/AB12 ***",
        "        0  67 " + size_line(data),
        "       81  84 message_arrival_time: Sat Nov 21 15:19:52 2026",
        "       95  83 sender: s@x.test",
        f"{rcpt_off:9d}  82 recipient: r@x.test",
        f"{mesg_off:9d}  77 *** MESSAGE CONTENTS incoming/AB12 ***",
        f"{mesg_off + 2:9d}  76 Subject: ",
        f"{mesg_off + 13:9d}  78 hi",
        f"{mesg_off + 17:9d}  78 ",
        f"{mesg_off + 19:9d}  78 body",
        f"{mesg_off + 25:9d}  88 *** HEADER EXTRACTED incoming/AB12 ***",
        f"{mesg_off + 27:9d}  69 *** MESSAGE FILE END incoming/AB12 ***",
    ]
    # -d alone: a type before every record, CONT records still continue the line.
    r = qdir.run("postcat", "-dhq", "AB12", env=ENV, check=True)
    assert r.stdout_lines == [" 76 Subject:  78 hi"]
    # -s skips to an offset: no envelope marker, content from there.
    r = qdir.run("postcat", "-s", str(mesg_off + 17), "-q", "AB12", env=ENV, check=True)
    assert r.stdout_lines == ["", "body", "*** HEADER EXTRACTED incoming/AB12 ***",
                              "*** MESSAGE FILE END incoming/AB12 ***"]


def test_standard_input(qdir):
    data = sample()
    r = qdir.run("postcat", input=data, env=ENV, check=True)
    assert r.stdout == expected(data, "stdin")


def test_file_name_prefix(qdir):
    data = sample()
    place(qdir, "hold/FF00", data)
    r = qdir.run("postcat", "-fhq", "FF00", env=ENV, check=True)
    assert r.stdout_lines == ["hold/FF00: " + line for line in HEADER_LINES]


def test_unknown_queue_id(qdir):
    r = qdir.run("postcat", "-q", "ABCDEF123")
    assert r.returncode == 1
    assert r.stderr_lines == ["postcat: fatal: open queue file ABCDEF123: No such file or directory"]
    assert r.stdout == ""


def test_bad_queue_id(qdir):
    r = qdir.run("postcat", "-q", "bad/id")
    assert r.returncode == 1
    assert r.stderr_lines == ["postcat: fatal: bad mail queue ID: bad/id"]


def test_missing_file(qdir, tmp_path):
    r = qdir.run("postcat", str(tmp_path / "nonexistent"))
    assert r.returncode == 1
    assert r.stderr_lines == [f"postcat: fatal: open {tmp_path}/nonexistent: No such file or directory"]


def test_truncated_file(qdir, tmp_path):
    data = sample()
    cut = data.index(b"hello") + 2  # inside a NORM record's data
    path = place(qdir, "incoming/CUT1", data[:cut])
    r = qdir.run("postcat", "-q", "CUT1", env=ENV)
    assert r.returncode == 1
    assert r.stderr_lines == [
        f"postcat: warning: {path}: unexpected EOF in data, record type 78 length 5",
        "postcat: fatal: record read error",
    ]
    # What came before the damage was shown.
    assert "sender: alice@example.com" in r.stdout_lines


def test_forged_length(qdir):
    """A 34 GB length in a tiny file fails cleanly, without a huge allocation."""
    data = sample()
    mesg = data.index(b"M\x00")
    forged = data[:mesg] + b"N\xff\xff\xff\xff\x7fxyz"
    path = place(qdir, "incoming/BIG1", forged)
    r = qdir.run("postcat", "-q", "BIG1", env=ENV)
    assert r.returncode == 1
    assert r.stderr_lines[0].startswith(f"postcat: warning: {path}: unexpected EOF in data, record type 78")
    assert r.stderr_lines[-1] == "postcat: fatal: record read error"


def test_unknown_record_type(qdir):
    data = sample()
    rcpt = data.index(b"R\x0fbob@example.net")
    bad = data[:rcpt] + b"?" + data[rcpt + 1:]
    place(qdir, "incoming/BAD1", bad)
    r = qdir.run("postcat", "-q", "BAD1", env=ENV)
    assert r.returncode == 1
    assert r.stderr_lines == [
        f"postcat: warning: incoming/BAD1: unknown record type 63 at offset {rcpt}",
        "postcat: fatal: record read error",
    ]
    assert r.stdout_lines[-1] == "original_recipient: bob@example.net"


def test_not_a_queue_file(qdir, tmp_path):
    path = tmp_path / "text"
    path.write_bytes(b"hello world\n")
    r = qdir.run("postcat", str(path))
    assert r.returncode == 0
    assert r.stdout == ""
    assert r.stderr_lines == [f"postcat: warning: {path}: input is not a valid queue file"]


def test_empty_file(qdir, tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    r = qdir.run("postcat", str(path), check=True)
    assert r.stdout == "" and r.stderr == ""


def test_bad_option(qdir):
    r = qdir.run("postcat", "-x")
    assert r.returncode == 1
    assert r.stderr_lines[-1].startswith("postcat: fatal: usage: postcat")
