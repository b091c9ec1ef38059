"""postconf display, warnings and editing: config.md section 6, acceptance
checks C13-C25 of section 13.

DIR holds the given main.cf and an empty master.cf; the command is
`postconf -c DIR ...`. Expected values were compared with Debian's Postfix
3.7; comments say where the spec deliberately differs (mostly behaviour of
Postfix 3.8-3.10).
"""

import os

import pytest


# --- C13: empty values ----------------------------------------------------

# Postfix 3.7 prints "relayhost =" without the trailing space of 6.1.
def test_c13_empty_value(config_dir):
    config_dir.write_main_cf("relayhost =\n")
    r = config_dir.postconf("relayhost", check=True)
    assert r.stdout == "relayhost = \n"
    r = config_dir.postconf("-h", "relayhost", check=True)
    assert r.stdout == "\n"


def test_h_and_H(config_dir):
    config_dir.write_main_cf("relayhost = r\nmyorigin = o\n")
    r = config_dir.postconf("-h", "relayhost", "myorigin", check=True)
    assert r.stdout == "r\no\n"
    r = config_dir.postconf("-H", "relayhost", "myorigin", check=True)
    assert r.stdout == "relayhost\nmyorigin\n"
    r = config_dir.postconf("myorigin", "relayhost", check=True)
    assert r.stdout == "myorigin = o\nrelayhost = r\n"  # argument order


def test_all_parameters_sorted(config_dir):
    config_dir.write_main_cf("relayhost = r\n")
    r = config_dir.postconf(check=True)
    names = [line.split(" ", 1)[0] for line in r.stdout_lines]
    expected = os.path.join(os.path.dirname(__file__), "data", "postconf-d.expected")
    with open(expected) as f:
        declared = sum(1 for line in f if " = " in line or line.endswith(" =\n"))
    assert names == sorted(names) and len(names) >= declared
    assert "relayhost = r" in r.stdout_lines
    assert all(" = " in line or line.endswith(" =") for line in r.stdout_lines)


# --- C14-C17: built-in defaults -----------------------------------------------

def test_c14_default_mydestination(config_dir):
    r = config_dir.postconf("-d", "mydestination", check=True)
    assert r.stdout == "mydestination = $myhostname, localhost.$mydomain, localhost\n"


def test_c15_default_queue_and_process_settings(config_dir):
    r = config_dir.postconf("-d", "queue_run_delay", "maximal_queue_lifetime",
                            "default_process_limit", check=True)
    assert r.stdout == ("queue_run_delay = 300s\n"
                        "maximal_queue_lifetime = 5d\n"
                        "default_process_limit = 100\n")


def test_c16_default_mynetworks_style(config_dir):
    r = config_dir.postconf("-d", "mynetworks_style", check=True)
    assert r.stdout == ("mynetworks_style = "
                        "${{$compatibility_level} <level {2} ? {subnet} : {host}}\n")


@pytest.mark.parametrize("level, style", [("3.6", "host"), ("0", "subnet"),
                                          ("2", "host"), ("1", "subnet")])
def test_c16_mynetworks_style_by_compatibility_level(config_dir, level, style):
    config_dir.write_main_cf(f"compatibility_level = {level}\n")
    r = config_dir.postconf("-xh", "mynetworks_style", check=True)
    assert r.stdout == style + "\n"


def test_c17_default_parent_domain_matches_subdomains(config_dir):
    r = config_dir.postconf("-d", "parent_domain_matches_subdomains", check=True)
    assert r.stdout == (
        "parent_domain_matches_subdomains = debug_peer_list,fast_flush_domains,"
        "mynetworks,permit_mx_backup_networks,qmqpd_authorized_clients,"
        "relay_domains,smtpd_access_maps\n")


def test_d_ignores_main_cf(config_dir):
    config_dir.write_main_cf("queue_run_delay = 17s\n")
    r = config_dir.postconf("-d", "queue_run_delay", check=True)
    assert r.stdout == "queue_run_delay = 300s\n"


# --- C18-C20: warnings ----------------------------------------------------

def test_c18_unknown_parameter(config_dir):
    r = config_dir.postconf("nosuchparam")
    assert r.returncode == 0, r
    assert r.stdout == ""
    assert r.stderr == "postconf: warning: nosuchparam: unknown parameter\n"


# Postfix 3.7 leaves an unused parameter out of -n; the spec lists it.
def test_c19_unused_parameter(config_dir):
    config_dir.write_main_cf("foo = yes\n")
    r = config_dir.postconf("-n", check=True)
    assert "foo = yes" in r.stdout_lines, r
    warning = f"postconf: warning: {config_dir.main_cf}: unused parameter: foo=yes"
    assert r.stderr_lines.count(warning) == 1, r


def test_c19_restriction_class_is_used(config_dir):
    config_dir.write_main_cf("foo = yes\nsmtpd_restriction_classes = foo\n")
    r = config_dir.postconf("-n", check=True)
    assert "foo = yes" in r.stdout_lines, r
    assert "unused parameter" not in r.stderr, r


@pytest.mark.parametrize("main_cf", [
    "foo = yes\nmyorigin = $foo\n",                       # referenced as $name
    "foo = yes\nmyorigin = ${foo?x}\n",
    "maildrop_destination_recipient_limit = 1\n",        # SERVICE_ from master.cf
], ids=["dollar", "conditional", "per-service"])
def test_c19_accepted_names_do_not_warn(config_dir, main_cf):
    config_dir.write_main_cf(main_cf)
    config_dir.write_master_cf("maildrop unix - n n - - pipe flags=DRXhu "
                               "user=vmail argv=/bin/true\n")
    r = config_dir.postconf("-n", check=True)
    assert "unused parameter" not in r.stderr, r


# Deprecation warnings are Postfix 3.9 behaviour (3.7 prints none).
@pytest.mark.parametrize("name, alternative", [
    ("smtpd_use_tls", "smtpd_tls_security_level"),
    ("disable_dns_lookups", "smtp_dns_support_level"),
    ("virtual_maps", "virtual_alias_maps"),
])
def test_c20_deprecated_parameter(config_dir, name, alternative):
    config_dir.write_main_cf(f"{name} = yes\n")
    r = config_dir.postconf("-n", check=True)
    assert f"{name} = yes" in r.stdout_lines
    text = (f'support for parameter "{name}" will be removed; '
            f'instead, specify "{alternative}"')
    hits = [line for line in r.stderr_lines if text in line]
    assert len(hits) == 1, r
    assert hits[0].startswith("postconf: warning: "), r


def test_c20_q_silences_warnings(config_dir):
    config_dir.write_main_cf("smtpd_use_tls = yes\nfoo = yes\nsmtpd_banner = $nosuch\n")
    r = config_dir.postconf("-q", "-nx", check=True)
    assert r.stderr == "", r
    r = config_dir.postconf("-nx", check=True)
    for text in ("will be removed", "unused parameter: foo=yes",
                 "undefined parameter: nosuch"):
        assert text in r.stderr, r


# --- C21: -n ------------------------------------------------------------

def test_c21_n_with_c_lists_config_directory(config_dir):
    config_dir.write_main_cf("myorigin = a\nalias_maps = b\n")
    r = config_dir.postconf("-n", check=True)
    assert r.stdout == (f"alias_maps = b\nconfig_directory = {config_dir.path}\n"
                        "myorigin = a\n")
    assert r.stderr == ""


# --- C22-C24: editing ---------------------------------------------------

C22_MAIN_CF = "# hdr\nmyhostname = a.example\n  .x\nrelayhost = r\n"


def test_c22_edit_replaces_entry_and_appends(config_dir):
    config_dir.write_main_cf(C22_MAIN_CF)
    r = config_dir.postconf("-e", "myhostname=b.example", "mydomain=example.com")
    assert r.returncode == 0, r
    assert config_dir.read_main_cf() == ("# hdr\nmyhostname = b.example\n"
                                         "relayhost = r\nmydomain = example.com\n")
    assert config_dir.listdir() == ["main.cf", "master.cf"]  # no temporary file


def test_c22_edit_renames_new_file_into_place(config_dir):
    config_dir.write_main_cf(C22_MAIN_CF)
    before = os.stat(config_dir.main_cf).st_ino
    config_dir.postconf("-e", "relayhost=s", check=True)
    assert os.stat(config_dir.main_cf).st_ino != before  # written aside, renamed
    assert config_dir.listdir() == ["main.cf", "master.cf"]


# Postfix 3.7 appends new names in hash order; 6.2 says sorted.
def test_c22_new_names_appended_sorted(config_dir):
    config_dir.write_main_cf("relayhost = r\n")
    config_dir.postconf("-e", "zz_test_param=1", "myorigin=2", "alias_maps=3",
                        check=True)
    assert config_dir.read_main_cf() == ("relayhost = r\nalias_maps = 3\n"
                                         "myorigin = 2\nzz_test_param = 1\n")


# Postfix 3.7 glues the new entry onto an unterminated last line.
def test_c22_append_after_missing_final_newline(config_dir):
    config_dir.write_main_cf("relayhost = r")
    config_dir.postconf("-e", "myorigin=o", check=True)
    text = config_dir.read_main_cf()
    assert text in ("relayhost = r\nmyorigin = o\n", "relayhost = r\nmyorigin = o"), text
    r = config_dir.postconf("-h", "relayhost", "myorigin", check=True)
    assert r.stdout == "r\no\n"


def test_c22_edit_keeps_comments_and_replaces_duplicates(config_dir):
    config_dir.write_main_cf("relayhost = a\n  b\n# c\n  # d\nrelayhost = e\n"
                             "myorigin = o\n")
    r = config_dir.postconf("-e", "relayhost=z", check=True)
    assert config_dir.read_main_cf() == ("relayhost = z\n# c\n  # d\nrelayhost = z\n"
                                         "myorigin = o\n")
    assert (f'postconf: warning: {config_dir.main_cf}: multiple entries for '
            f'"relayhost"') in r.stderr_lines, r


def test_c22_e_is_optional(config_dir):
    config_dir.write_main_cf(C22_MAIN_CF)
    config_dir.postconf("myhostname=b.example", check=True)
    assert config_dir.read_main_cf() == "# hdr\nmyhostname = b.example\nrelayhost = r\n"


@pytest.mark.parametrize("arg", ["#relayhost=x", "relayhost=x\nmyorigin=y"],
                         ids=["comment", "newline"])
def test_c22_edit_rejects_comment_and_multiline(config_dir, arg):
    config_dir.write_main_cf(C22_MAIN_CF)
    r = config_dir.postconf("-e", arg)
    assert r.returncode != 0, r
    assert "postconf: fatal: " in r.stderr, r
    assert config_dir.read_main_cf() == C22_MAIN_CF
    assert config_dir.listdir() == ["main.cf", "master.cf"]


def test_c23_edit_value_with_spaces_and_brackets(config_dir):
    config_dir.write_main_cf(C22_MAIN_CF)
    config_dir.postconf("-e", "relayhost = [gw.example]", check=True)
    r = config_dir.postconf("-h", "relayhost", check=True)
    assert r.stdout == "[gw.example]\n"
    assert "relayhost = [gw.example]\n" in config_dir.read_main_cf()


C24_MAIN_CF = ("# hdr\nmyhostname = b.example\nrelayhost = r\n"
               "mydomain = example.com\n")


def test_c24_comment_out_entry(config_dir):
    config_dir.write_main_cf(C24_MAIN_CF)
    config_dir.postconf("-#", "relayhost", check=True)
    assert config_dir.read_main_cf() == ("# hdr\nmyhostname = b.example\n"
                                         "#relayhost = r\nmydomain = example.com\n")
    r = config_dir.postconf("-n", check=True)
    assert not any(line.startswith("relayhost") for line in r.stdout_lines), r
    assert config_dir.listdir() == ["main.cf", "master.cf"]


def test_c24_delete_entry(config_dir):
    config_dir.write_main_cf(C24_MAIN_CF)
    config_dir.postconf("-X", "mydomain", check=True)
    assert config_dir.read_main_cf() == ("# hdr\nmyhostname = b.example\n"
                                         "relayhost = r\n")
    assert config_dir.listdir() == ["main.cf", "master.cf"]


def test_c24_multiline_entries(config_dir):
    config_dir.write_main_cf("relayhost = a\n  b\n# c\nmydomain = d\n  e\nmyorigin = o\n")
    config_dir.postconf("-#", "relayhost", check=True)
    config_dir.postconf("-X", "mydomain", check=True)
    assert config_dir.read_main_cf() == "#relayhost = a\n#  b\n# c\nmyorigin = o\n"


# --- C25: -m and -l -----------------------------------------------------

def test_c25_table_types(config_dir):
    r = config_dir.postconf("-m", check=True)
    types = r.stdout_lines
    assert types == sorted(types) and len(types) == len(set(types)), r
    required = ("btree cdb cidr environ fail hash inline lmdb nis pcre pipemap proxy regexp "
                "static texthash unionmap unix")
    assert types == required.split(), r


def test_c25_lock_methods(config_dir):
    r = config_dir.postconf("-l", check=True)
    methods = r.stdout_lines
    assert methods and set(methods) <= {"flock", "fcntl", "dotlock"}, r
    assert len(methods) == len(set(methods)) and "dotlock" in methods, r
