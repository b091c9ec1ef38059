"""master.cf parsing and its postconf views: config.md sections 3 and 6.1,
acceptance checks C31-C34 of section 13.

The parts of C33 and C34 that need a running master (no wake-up before
first use; listening only on 127.0.0.1:10025; never more than 10 processes)
belong with the master tests (C35-C39) and are not here.

Expected values were compared with Debian's Postfix 3.7; comments say where
the spec deliberately differs.
"""

import re

import pytest

import postern

M_COLUMNS = (0, 11, 17, 25, 33, 41, 49, 57)


def m_line(entry):
    """The `postconf -M` line for a master.cf ENTRY (one logical line).

    Fields start at columns 0, 11, 17, 25, 33, 41, 49, 57, with at least
    one space before each; further arguments single-space separated
    (config.md 6.1).
    """
    words = entry.split()
    fields, args = words[:8], words[8:]
    line = ""
    for col, field in zip(M_COLUMNS, fields):
        if line:
            col = max(col, len(line) + 1)
        line = line.ljust(col) + field
    return " ".join([line] + args)


def logical_lines(text):
    """master.cf TEXT joined into logical lines (continuations appended)."""
    out = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t":
            out[-1] += " " + line.strip()
        else:
            out.append(line.strip())
    return out


def test_m_line_helper():
    assert m_line("smtp inet n - n - - smtpd") == \
        "smtp       inet  n       -       n       -       -       smtpd"
    assert m_line("postlog unix-dgram n - n - 1 postlogd") == \
        "postlog    unix-dgram n  -       n       -       1       postlogd"
    assert m_line("127.0.0.1:10025 inet n - n - 10 smtpd -o a=b") == \
        "127.0.0.1:10025 inet n   -       n       -       10      smtpd -o a=b"


# --- C31: master.cf errors (postfix check) ---------------------------------

# Postfix 3.7's `postfix check` reports these through postconf with other
# texts ("invalid private field ...", "bad field count") and does not
# notice "inet service cannot be private" at all; the spec requires the
# master's texts (section 3.1) from `postfix check`.
C31 = [
    ("smtp inet - - n - - smtpd", 1, "inet service cannot be private"),
    ("foo unix x - n - - smtpd", 1, 'field "private": bad value: "x"'),
    ("foo bogus n - n - - smtpd", 1, "bad transport type: bogus"),
    ("foo unix n", 1, 'missing "unprivileged" field'),
    # The rest of section 3.1's messages, table-driven.
    ("foo unix yes - n - - smtpd", 1, 'field "private": bad value: "yes"'),
    ("foo unix n q n - - smtpd", 1, 'field "unprivileged": bad value: "q"'),
    ("foo unix n - q - - smtpd", 1, 'field "chroot": bad value: "q"'),
    ("foo unix n - n x - smtpd", 1, 'field "wakeup_time": bad value: "x"'),
    ("foo unix n - n - x smtpd", 1, 'field "max_proc": bad value: "x"'),
    ("foo unix n - n - -", 1, 'missing "command" field'),
    ("foo", 1, 'missing "transport type" field'),
    ("pickup unix n - n 60 1 pickup\nfoo bogus n - n - - smtpd", 2,
     "bad transport type: bogus"),
    ("# comment\nrelay unix - - n - - smtp\n  -o smtp_helo_timeout=5s\n\n"
     "smtp inet - - n - - smtpd", 5, "inet service cannot be private"),
]


@pytest.mark.parametrize("master_cf, line, message", C31,
                         ids=[f"{i + 1}-{m.split(':')[0].split(' ')[0]}"
                              for i, (_, _, m) in enumerate(C31)])
def test_c31_check_rejects_bad_master_cf(instance, master_cf, line, message):
    instance.write_master_cf(master_cf + "\n")
    r = instance.postfix("check")
    assert r.returncode != 0, r
    assert re.search(rf"fatal: {re.escape(instance.master_cf)}: line {line}: "
                     rf"{re.escape(message)}$", r.stderr, re.M), r


def test_c31_check_accepts_stock_master_cf(instance):
    instance.write_master_cf(instance.default_master_cf())
    r = instance.postfix("check")
    assert r.returncode == 0, r
    assert "fatal:" not in r.stderr, r


# --- C32: empty -o values, -P and -M -------------------------------------

C32_MASTER_CF = ("smtp inet n - n - - smtpd\n"
                 "  -o smtpd_client_restrictions=\n"
                 "  -o content_filter=\n")


def test_c32_empty_overrides_with_P(config_dir):
    config_dir.write_master_cf(C32_MASTER_CF)
    r = config_dir.postconf("-P", check=True)
    # Postfix 3.7 prints "name =" without the trailing space of 6.1.
    assert sorted(r.stdout_lines) == ["smtp/inet/content_filter = ",
                                      "smtp/inet/smtpd_client_restrictions = "], r
    assert r.stdout.endswith("\n")


def test_c32_M_column_layout(config_dir):
    config_dir.write_master_cf(C32_MASTER_CF)
    r = config_dir.postconf("-M", "smtp/inet", check=True)
    assert r.stdout == ("smtp       inet  n       -       n       -       -       "
                        "smtpd -o smtpd_client_restrictions= -o content_filter=\n")


def test_c32_M_stock_master_cf(config_dir):
    config_dir.write_master_cf(postern.STOCK_MASTER_CF)
    r = config_dir.postconf("-M", check=True)
    assert r.stdout_lines == [m_line(e) for e in logical_lines(postern.STOCK_MASTER_CF)]


@pytest.mark.parametrize("select, names", [
    (["pickup/unix"], ["pickup unix"]),
    (["smtp"], ["smtp inet", "smtp unix"]),
    (["qmgr", "smtp/inet"], ["qmgr unix", "smtp inet"]),
])
def test_c32_M_selects_entries(config_dir, select, names):
    config_dir.write_master_cf(postern.STOCK_MASTER_CF)
    r = config_dir.postconf("-M", *select, check=True)
    # Entries come in master.cf order, whatever the argument order (as 3.7).
    stock = logical_lines(postern.STOCK_MASTER_CF)
    assert r.stdout_lines == [m_line(e) for e in stock
                              if " ".join(e.split()[:2]) in names]


def test_c32_P_stock_relay_override(config_dir):
    config_dir.write_master_cf(postern.STOCK_MASTER_CF)
    r = config_dir.postconf("-P", check=True)
    assert r.stdout == ("relay/unix/syslog_name = "
                        "${multi_instance_name?{$multi_instance_name}:{postfix}}"
                        "/$service_name\n")


# --- C33: wake-up column and -F ----------------------------------------

def test_c33_F_wakeup(config_dir):
    config_dir.write_master_cf("pickup unix n - n 60 1 pickup\n")
    r = config_dir.postconf("-F", "pickup/unix/wakeup", check=True)
    assert r.stdout == "pickup/unix/wakeup = 60\n"


# C33's "1000?: no wake-up before first use" needs a running master; here
# only that the conditional form parses and prints as written.
def test_c33_F_conditional_wakeup(config_dir):
    config_dir.write_master_cf(postern.STOCK_MASTER_CF)
    r = config_dir.postconf("-F", "flush/unix/wakeup", "tlsmgr/unix/wakeup",
                            check=True)
    # master.cf order, as in Postfix 3.7.
    assert r.stdout == "tlsmgr/unix/wakeup = 1000?\nflush/unix/wakeup = 1000?\n"


def test_c33_F_all_fields(config_dir):
    config_dir.write_master_cf("pickup unix n - n 60 1 pickup\n")
    r = config_dir.postconf("-F", check=True)
    assert r.stdout_lines == [
        "pickup/unix/service = pickup",
        "pickup/unix/type = unix",
        "pickup/unix/private = n",
        "pickup/unix/unprivileged = -",
        "pickup/unix/chroot = n",
        "pickup/unix/wakeup = 60",
        "pickup/unix/process_limit = 1",
        "pickup/unix/command = pickup",
    ]


# E6: the book's fifo pickup/qmgr entries still parse.
def test_c33_fifo_entries_parse(config_dir):
    config_dir.write_master_cf("pickup fifo n - n 60 1 pickup\n"
                               "qmgr fifo n - n 300 1 qmgr\n")
    r = config_dir.postconf("-M", check=True)
    assert r.stdout_lines == [m_line("pickup fifo n - n 60 1 pickup"),
                              m_line("qmgr fifo n - n 300 1 qmgr")]
    r = config_dir.postconf("-F", "qmgr/fifo/wakeup", check=True)
    assert r.stdout == "qmgr/fifo/wakeup = 300\n"


# --- C34: long-form -o and host:port services -------------------------------

# C34's "listens only on 127.0.0.1:10025" and "never more than 10
# processes" need a running master and are left for the master tests.
C34_MASTER_CF = "127.0.0.1:10025 inet n - n - 10 smtpd -o { smtpd_banner = a b }\n"


def test_c34_P_long_form_override(config_dir):
    config_dir.write_master_cf(C34_MASTER_CF)
    r = config_dir.postconf("-P", check=True)
    assert r.stdout == "127.0.0.1:10025/inet/smtpd_banner = a b\n"


def test_c34_F_host_port_service(config_dir):
    config_dir.write_master_cf(C34_MASTER_CF)
    r = config_dir.postconf("-F", "127.0.0.1:10025/inet/service",
                            "127.0.0.1:10025/inet/process_limit", check=True)
    assert r.stdout == ("127.0.0.1:10025/inet/service = 127.0.0.1:10025\n"
                        "127.0.0.1:10025/inet/process_limit = 10\n")


@pytest.mark.parametrize("entry, param, value", [
    ("submission inet n - n - - smtpd -o smtpd_tls_security_level=encrypt",
     "smtpd_tls_security_level", "encrypt"),
    ("smtp inet n - n - - smtpd -o { smtpd_banner = $myhostname  ESMTP }",
     "smtpd_banner", "$myhostname  ESMTP"),
    ("smtp inet n - n - - smtpd\n  -o content_filter=\n  -o {receive_override_options=}",
     "receive_override_options", ""),
], ids=["short", "long-with-spaces", "long-empty"])
# Postfix 3.7 prints the long form's inner "  " as one space and an empty
# value without the trailing space; 6.1 prints values as stored.
def test_override_forms(config_dir, entry, param, value):
    config_dir.write_master_cf(entry + "\n")
    service = "/".join(entry.split()[:2])
    r = config_dir.postconf("-P", f"{service}/{param}", check=True)
    assert r.stdout == f"{service}/{param} = {value}\n"
