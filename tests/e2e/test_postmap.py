"""postmap and the local table types: tables.md sections 2-6, 9, 11 and the
acceptance checks T1-T30 and T53 of section 14.

Every command runs as `postmap -c DIR ...` with DIR as working directory;
source files are written into DIR and named relatively (F, A, ...), so the
expected messages hold the file name exactly as given. Where the spec leaves
a detail open, the expected output is what Debian's Postfix 3.7 prints
(checked with /usr/sbin/postmap); comments say where the two differ.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time

import pytest

import postern

# Indexed (built) table types and the suffix of the file each one writes.
SUFFIX = {"hash": ".db", "btree": ".db", "lmdb": ".lmdb", "cdb": ".cdb"}
INDEXED = list(SUFFIX)
# Types that can be listed (-s) and changed in place (-d, -i); cdb is
# read-only and rebuilt as a whole (section 2).
WRITABLE = ["hash", "btree", "lmdb"]

DEBIAN_POSTMAP = "/usr/sbin/postmap"


def postmap(cd, *args, **kwargs):
    """`postmap -c DIR ARGS` in DIR."""
    return cd.run("postmap", *args, **kwargs)


def src(cd, name, text, mode=None):
    """Write source file NAME (relative to DIR) and return its absolute path."""
    return cd.write_file(name, text, mode=mode)


def assert_found(r, value):
    """A -q KEY lookup that found VALUE: exactly it on stdout, exit 0, silent."""
    assert (r.returncode, r.stdout, r.stderr) == (0, value + "\n", ""), r


def assert_not_found(r):
    """A lookup that found nothing: no output at all, exit 1."""
    assert (r.returncode, r.stdout, r.stderr) == (1, "", ""), r


def assert_silent_success(r):
    assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), r


def assert_fatal(r, *fragments):
    """Exit 1, nothing on stdout, a fatal message containing each fragment."""
    assert r.returncode == 1 and r.stdout == "", r
    assert "postmap: fatal: " in r.stderr, r
    for fragment in fragments:
        assert fragment in r.stderr, r


def leftovers(cd, expected):
    """Names in DIR that are not in EXPECTED (temporary files, locks, ...)."""
    return sorted(set(cd.listdir()) - set(expected) - {"main.cf", "master.cf"})


# --- T1: build and query --------------------------------------------------

def test_t1_build_and_query_default_type(config_dir):
    src(config_dir, "F", "Kdent@Example.com  kyle.dent@example.com\n")
    assert_silent_success(postmap(config_dir, "F"))
    assert os.path.isfile(os.path.join(config_dir.path, "F.db"))
    assert_found(postmap(config_dir, "-q", "kdent@example.com", "F"), "kyle.dent@example.com")
    assert_found(postmap(config_dir, "-q", "KDENT@EXAMPLE.COM", "F"), "kyle.dent@example.com")
    assert_found(postmap(config_dir, "-q", "kdent@example.com", "hash:F"),
                 "kyle.dent@example.com")
    assert_not_found(postmap(config_dir, "-q", "nobody", "F"))


@pytest.mark.parametrize("dtype", INDEXED)
def test_t1_build_and_query_each_type(config_dir, dtype):
    src(config_dir, "F", "Kdent@Example.com  kyle.dent@example.com\n"
                         "other  Value With Spaces\n")
    assert_silent_success(postmap(config_dir, f"{dtype}:F"))
    assert os.path.isfile(os.path.join(config_dir.path, "F" + SUFFIX[dtype]))
    for key in ("kdent@example.com", "KDENT@EXAMPLE.COM", "Kdent@Example.com"):
        assert_found(postmap(config_dir, "-q", key, f"{dtype}:F"), "kyle.dent@example.com")
    assert_found(postmap(config_dir, "-q", "OTHER", f"{dtype}:F"), "Value With Spaces")
    assert_not_found(postmap(config_dir, "-q", "nobody", f"{dtype}:F"))


def test_build_several_files_in_one_command(config_dir):
    src(config_dir, "A", "a 1\n")
    src(config_dir, "B", "b 2\n")
    assert_silent_success(postmap(config_dir, "A", "lmdb:B"))
    assert_found(postmap(config_dir, "-q", "a", "hash:A"), "1")
    assert_found(postmap(config_dir, "-q", "b", "lmdb:B"), "2")


# --- T2: -f keeps case ----------------------------------------------------

@pytest.mark.parametrize("dtype", INDEXED)
def test_t2_no_folding(config_dir, dtype):
    src(config_dir, "F", "Kdent@Example.com  kyle.dent@example.com\n")
    assert_silent_success(postmap(config_dir, "-f", f"{dtype}:F"))
    assert_found(postmap(config_dir, "-f", "-q", "Kdent@Example.com", f"{dtype}:F"),
                 "kyle.dent@example.com")
    assert_not_found(postmap(config_dir, "-f", "-q", "kdent@example.com", f"{dtype}:F"))


# --- T3: comments and continuation lines ------------------------------------

@pytest.mark.parametrize("dtype", INDEXED)
def test_t3_comments_and_continuation(config_dir, dtype):
    src(config_dir, "F", "# c\na  1\nb  2,\n   3\n")
    assert_silent_success(postmap(config_dir, f"{dtype}:F"))
    assert_found(postmap(config_dir, "-q", "b", f"{dtype}:F"), "2,   3")
    assert_found(postmap(config_dir, "-q", "a", f"{dtype}:F"), "1")
    assert_not_found(postmap(config_dir, "-q", "#", f"{dtype}:F"))
    assert_not_found(postmap(config_dir, "-q", "# c", f"{dtype}:F"))


def test_blank_lines_and_whitespace_trimmed(config_dir):
    src(config_dir, "F", "\n   \na \t value with  inner  spaces \t\n\n#x y\n")
    assert_silent_success(postmap(config_dir, "F"))
    assert_found(postmap(config_dir, "-q", "a", "F"), "value with  inner  spaces")
    assert_not_found(postmap(config_dir, "-q", "#x", "F"))


# --- T4, T49-like: bad lines are skipped, the rest is built ------------------

def test_t4_key_without_value(config_dir):
    src(config_dir, "F", "lonely\na 1\n")
    r = postmap(config_dir, "F")
    assert (r.returncode, r.stdout) == (0, ""), r
    assert r.stderr_lines == [
        "postmap: warning: F, line 1: expected format: key whitespace value"], r
    assert_found(postmap(config_dir, "-q", "a", "F"), "1")
    assert_not_found(postmap(config_dir, "-q", "lonely", "F"))


def test_syntax_errors_leave_rest_of_table_built(config_dir):
    src(config_dir, "F", 'a 1\nlonely\n"unbalanced x\nb 2\nxxx: yyy\n'
                         '"c d" 3\n  \nlonely2\ne 5\n')
    r = postmap(config_dir, "F")
    assert (r.returncode, r.stdout) == (0, ""), r
    assert len(r.stderr_lines) == 4, r
    assert r.stderr_lines[0] == (
        "postmap: warning: F, line 2: expected format: key whitespace value"), r
    assert r.stderr_lines[1].startswith(
        "postmap: warning: F, line 3: unbalanced '\"' in '\"unbalanced x'"), r
    assert r.stderr_lines[2] == ('postmap: warning: F, line 5: record is in '
                                 '"key: value" format; is this an alias file?'), r
    # Line 7 holds only blanks: a continuation of line 6, not an error.
    assert r.stderr_lines[3] == (
        "postmap: warning: F, line 8: expected format: key whitespace value"), r
    r = postmap(config_dir, "-s", "F", check=True)
    assert sorted(r.stdout_lines) == sorted(
        ["a\t1", "b\t2", "xxx:\tyyy", '"c d"\t3', "e\t5"]), r


# --- T5: duplicate keys -----------------------------------------------------

@pytest.mark.parametrize("dtype", INDEXED)
def test_t5_duplicates_first_wins_with_warning(config_dir, dtype):
    src(config_dir, "F", "a 1\na 2\n")
    r = postmap(config_dir, f"{dtype}:F")
    assert (r.returncode, r.stdout) == (0, ""), r
    assert len(r.stderr_lines) == 1, r
    # The table's name: "F.db" in Postfix 3.7, "lmdb:F" for lmdb.
    assert r.stderr_lines[0].startswith("postmap: warning: ") and "F" in r.stderr_lines[0], r
    assert r.stderr_lines[0].endswith(': duplicate entry: "a"'), r
    assert_found(postmap(config_dir, "-q", "a", f"{dtype}:F"), "1")


@pytest.mark.parametrize("dtype", INDEXED)
@pytest.mark.parametrize("flag, value", [("-r", "2"), ("-w", "1")])
def test_t5_duplicates_r_and_w_are_silent(config_dir, dtype, flag, value):
    src(config_dir, "F", "a 1\nA 2\n")
    assert_silent_success(postmap(config_dir, flag, f"{dtype}:F"))
    assert_found(postmap(config_dir, "-q", "a", f"{dtype}:F"), value)


# --- T6: "key: value" lines ---------------------------------------------------

def test_t6_alias_format_warning(config_dir):
    src(config_dir, "F", "xxx: yyy\n")
    r = postmap(config_dir, "F")
    assert (r.returncode, r.stdout) == (0, ""), r
    assert r.stderr_lines == ['postmap: warning: F, line 1: record is in "key: value" '
                              'format; is this an alias file?'], r
    assert_found(postmap(config_dir, "-q", "xxx:", "F"), "yyy")
    assert_not_found(postmap(config_dir, "-q", "xxx", "F"))


# --- T7: quoted keys ----------------------------------------------------------

@pytest.mark.parametrize("dtype", INDEXED)
def test_t7_quoted_key_with_space(config_dir, dtype):
    src(config_dir, "F", '"a b" c\n"Mixed Case" d\n')
    assert_silent_success(postmap(config_dir, f"{dtype}:F"))
    assert_found(postmap(config_dir, "-q", '"a b"', f"{dtype}:F"), "c")
    assert_found(postmap(config_dir, "-q", '"mixed case"', f"{dtype}:F"), "d")
    assert_not_found(postmap(config_dir, "-q", "a b", f"{dtype}:F"))


def test_t7_unbalanced_quote(config_dir):
    src(config_dir, "F", '"a b c\nd e\n')
    r = postmap(config_dir, "F")
    assert (r.returncode, r.stdout) == (0, ""), r
    assert len(r.stderr_lines) == 1, r
    # Postfix 3.7 adds " -- ignoring this line".
    assert r.stderr_lines[0].startswith(
        "postmap: warning: F, line 1: unbalanced '\"' in '\"a b c'"), r
    assert_found(postmap(config_dir, "-q", "d", "F"), "e")


# --- T8: -s -------------------------------------------------------------------

@pytest.mark.parametrize("dtype", WRITABLE)
def test_t8_list(config_dir, dtype):
    src(config_dir, "F", "b 2\na 1\nC Three Words\n")
    postmap(config_dir, f"{dtype}:F", check=True)
    r = postmap(config_dir, "-s", f"{dtype}:F")
    assert (r.returncode, r.stderr) == (0, ""), r
    assert sorted(r.stdout_lines) == ["a\t1", "b\t2", "c\tThree Words"], r


def test_t8_list_texthash_and_inline(config_dir):
    src(config_dir, "F", "b 2\na 1\n")
    r = postmap(config_dir, "-s", "texthash:F", check=True)
    assert sorted(r.stdout_lines) == ["a\t1", "b\t2"], r
    r = postmap(config_dir, "-s", "inline:{a=1, b=2}", check=True)
    assert sorted(r.stdout_lines) == ["a\t1", "b\t2"], r


# --- T9: -q - -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", INDEXED)
def test_t9_query_stdin(config_dir, dtype):
    src(config_dir, "F", "b 2\na 1\n")
    postmap(config_dir, f"{dtype}:F", check=True)
    r = postmap(config_dir, "-q", "-", f"{dtype}:F", input="a\nzz\nB\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, "a\t1\nB\t2\n", ""), r
    r = postmap(config_dir, "-q", "-", f"{dtype}:F", input="zz\n")
    assert_not_found(r)
    r = postmap(config_dir, "-q", "-", f"{dtype}:F", input="")
    assert_not_found(r)


def test_query_stdin_several_tables_first_wins(config_dir):
    src(config_dir, "A", "a 1\nb 2\n")
    src(config_dir, "B", "b B\nc C\n")
    postmap(config_dir, "A", "lmdb:B", check=True)
    r = postmap(config_dir, "-q", "-", "hash:A", "lmdb:B", input="a\nb\nc\nd\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, "a\t1\nb\t2\nc\tC\n", ""), r
    r = postmap(config_dir, "-q", "-", "lmdb:B", "hash:A", input="a\nb\nc\nd\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, "a\t1\nb\tB\nc\tC\n", ""), r


def test_query_several_tables_first_wins(config_dir):
    src(config_dir, "A", "a 1\nb 2\n")
    src(config_dir, "B", "b B\nc C\n")
    postmap(config_dir, "A", "B", check=True)
    assert_found(postmap(config_dir, "-q", "b", "A", "B"), "2")
    assert_found(postmap(config_dir, "-q", "b", "B", "A"), "B")
    assert_found(postmap(config_dir, "-q", "c", "A", "B"), "C")
    assert_found(postmap(config_dir, "-q", "c", "A", "static:S"), "S")
    assert_not_found(postmap(config_dir, "-q", "d", "A", "B"))


# --- T10: -d and -i -------------------------------------------------------------

@pytest.mark.parametrize("dtype", WRITABLE)
def test_t10_delete_and_incremental(config_dir, dtype):
    src(config_dir, "F", "b 2\na 1\n")
    postmap(config_dir, f"{dtype}:F", check=True)
    assert_silent_success(postmap(config_dir, "-d", "a", f"{dtype}:F"))
    assert_not_found(postmap(config_dir, "-q", "a", f"{dtype}:F"))
    assert_not_found(postmap(config_dir, "-d", "a", f"{dtype}:F"))
    assert_silent_success(postmap(config_dir, "-i", f"{dtype}:F", input="c 3\n"))
    assert_found(postmap(config_dir, "-q", "c", f"{dtype}:F"), "3")
    assert_found(postmap(config_dir, "-q", "b", f"{dtype}:F"), "2")
    r = postmap(config_dir, "-s", f"{dtype}:F", check=True)
    assert sorted(r.stdout_lines) == ["b\t2", "c\t3"], r


@pytest.mark.parametrize("dtype", WRITABLE)
def test_delete_keys_from_stdin(config_dir, dtype):
    src(config_dir, "F", "a 1\nb 2\nc 3\n")
    postmap(config_dir, f"{dtype}:F", check=True)
    assert_silent_success(postmap(config_dir, "-d", "-", f"{dtype}:F", input="A\nzz\nc\n"))
    r = postmap(config_dir, "-s", f"{dtype}:F", check=True)
    assert r.stdout_lines == ["b\t2"], r
    assert_not_found(postmap(config_dir, "-d", "-", f"{dtype}:F", input="zz\na\n"))
    r = postmap(config_dir, "-s", f"{dtype}:F", check=True)
    assert r.stdout_lines == ["b\t2"], r


def test_delete_from_several_tables(config_dir):
    src(config_dir, "A", "a 1\nb 2\n")
    src(config_dir, "B", "a 3\nc 4\n")
    postmap(config_dir, "A", "B", check=True)
    assert_silent_success(postmap(config_dir, "-d", "a", "A", "B"))
    assert_not_found(postmap(config_dir, "-q", "a", "A", "B"))
    assert_found(postmap(config_dir, "-q", "c", "A", "B"), "4")


@pytest.mark.parametrize("dtype", WRITABLE)
def test_incremental_keeps_existing_entries(config_dir, dtype):
    src(config_dir, "F", "a 1\nb 2\n")
    postmap(config_dir, f"{dtype}:F", check=True)
    r = postmap(config_dir, "-i", f"{dtype}:F", input="C 3\n# comment\nd  four  words\nb 22\n")
    assert (r.returncode, r.stdout) == (0, ""), r
    # An existing key is a duplicate: warned about, the old value stays.
    assert len(r.stderr_lines) == 1 and r.stderr_lines[0].endswith(
        ': duplicate entry: "b"'), r
    r = postmap(config_dir, "-s", f"{dtype}:F", check=True)
    assert sorted(r.stdout_lines) == ["a\t1", "b\t2", "c\t3", "d\tfour  words"], r
    assert_silent_success(postmap(config_dir, "-i", "-r", f"{dtype}:F", input="b 22\n"))
    assert_found(postmap(config_dir, "-q", "b", f"{dtype}:F"), "22")


def test_incremental_creates_missing_table(config_dir):
    assert_silent_success(postmap(config_dir, "-i", "lmdb:NEW", input="k v\n"))
    assert_found(postmap(config_dir, "-q", "k", "lmdb:NEW"), "v")


# --- -n / -N: the terminating NUL ---------------------------------------------

@pytest.mark.parametrize("dtype", INDEXED)
@pytest.mark.parametrize("flag, other", [("-n", "-N"), ("-N", "-n")])
def test_nul_convention_written_and_read_back(config_dir, dtype, flag, other):
    src(config_dir, "F", "a 1\nb two words\n")
    assert_silent_success(postmap(config_dir, flag, f"{dtype}:F"))
    # Without -n/-N lookups accept both forms.
    assert_found(postmap(config_dir, "-q", "a", f"{dtype}:F"), "1")
    assert_found(postmap(config_dir, "-q", "B", f"{dtype}:F"), "two words")
    assert_found(postmap(config_dir, flag, "-q", "a", f"{dtype}:F"), "1")
    # As Postfix: an explicit -n/-N lookup tries only that form.
    assert_not_found(postmap(config_dir, other, "-q", "a", f"{dtype}:F"))
    r = postmap(config_dir, "-q", "-", f"{dtype}:F", input="a\nb\n")
    assert (r.returncode, r.stdout) == (0, "a\t1\nb\ttwo words\n"), r
    if dtype in WRITABLE:
        r = postmap(config_dir, "-s", f"{dtype}:F", check=True)
        assert sorted(r.stdout_lines) == ["a\t1", "b\ttwo words"], r


@pytest.mark.parametrize("dtype", WRITABLE)
def test_nul_written_by_default(config_dir, dtype):
    src(config_dir, "F", "a 1\n")
    postmap(config_dir, f"{dtype}:F", check=True)
    assert_found(postmap(config_dir, "-N", "-q", "a", f"{dtype}:F"), "1")
    assert_not_found(postmap(config_dir, "-n", "-q", "a", f"{dtype}:F"))


# --- T11, T15: missing tables and bad names -------------------------------------

def test_t11_missing_table(config_dir):
    r = postmap(config_dir, "-q", "x", "hash:/nonexistent")
    assert_fatal(r, "/nonexistent.db")
    assert r.stderr == ("postmap: fatal: open database /nonexistent.db: "
                        "No such file or directory\n"), r


@pytest.mark.parametrize("dtype", INDEXED)
def test_missing_table_each_type(config_dir, dtype):
    for args in (["-q", "x"], ["-s"], ["-q", "-"]):
        r = postmap(config_dir, *args, f"{dtype}:nosuch", input="x\n")
        assert_fatal(r, "nosuch" + SUFFIX[dtype])


def test_t15_unsupported_type(config_dir):
    r = postmap(config_dir, "-q", "x", "nosuchtype:F")
    assert r.stderr == "postmap: fatal: unsupported dictionary type: nosuchtype\n", r
    assert_fatal(r)


@pytest.mark.parametrize("spec", [":F", "hash:"])
def test_t15_empty_type_or_name(config_dir, spec):
    r = postmap(config_dir, "-q", "x", spec)
    assert_fatal(r)
    assert r.stderr == ('postmap: fatal: open dictionary: expecting "type:name" '
                        f'form instead of "{spec}"\n'), r


# --- T12, T13: files, temporary files, modes -----------------------------------

def test_t12_file_names_and_no_temporary_files(config_dir):
    src(config_dir, "F", "a 1\n")
    for dtype in ("lmdb", "cdb", "hash", "btree"):
        assert_silent_success(postmap(config_dir, f"{dtype}:F"))
    assert leftovers(config_dir, ["F"]) == ["F.cdb", "F.db", "F.lmdb"]
    # Rebuilding replaces the files and leaves nothing else behind either.
    src(config_dir, "F", "a 2\n")
    for dtype in ("lmdb", "cdb", "hash"):
        assert_silent_success(postmap(config_dir, f"{dtype}:F"))
        assert_found(postmap(config_dir, "-q", "a", f"{dtype}:F"), "2")
    assert_silent_success(postmap(config_dir, "-d", "a", "lmdb:F"))
    assert_silent_success(postmap(config_dir, "-i", "hash:F", input="b 3\n"))
    assert leftovers(config_dir, ["F"]) == ["F.cdb", "F.db", "F.lmdb"]


def test_t12_failed_build_leaves_no_temporary_files(config_dir):
    # A source that cannot be read is fatal (section 3). Postfix 3.7 reads a
    # directory as an empty file and builds an empty table.
    os.mkdir(os.path.join(config_dir.path, "DIRSRC"))
    for dtype in ("hash", "lmdb", "cdb"):
        r = postmap(config_dir, f"{dtype}:DIRSRC")
        assert r.returncode == 1 and "postmap: fatal: " in r.stderr, r
    assert leftovers(config_dir, ["DIRSRC"]) == [], config_dir.listdir()


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("dtype", INDEXED)
@pytest.mark.parametrize("source_mode, table_mode", [
    (0o640, 0o640), (0o600, 0o600), (0o604, 0o604), (0o666, 0o644)])
def test_t13_table_mode_from_source(config_dir, umask022, dtype, source_mode, table_mode):
    src(config_dir, "F", "a 1\n", mode=source_mode)
    postmap(config_dir, f"{dtype}:F", check=True)
    st = os.stat(os.path.join(config_dir.path, "F" + SUFFIX[dtype]))
    assert stat.S_IMODE(st.st_mode) == table_mode, oct(st.st_mode)


@pytest.mark.parametrize("dtype", INDEXED)
def test_t13_p_gives_0644(config_dir, umask022, dtype):
    src(config_dir, "F", "a 1\n", mode=0o640)
    postmap(config_dir, "-p", f"{dtype}:F", check=True)
    st = os.stat(os.path.join(config_dir.path, "F" + SUFFIX[dtype]))
    assert stat.S_IMODE(st.st_mode) == 0o644, oct(st.st_mode)


# --- T14: readers never see a half-built table -----------------------------------

@pytest.mark.parametrize("dtype", ["hash", "lmdb", "cdb"])
def test_t14_queries_during_100_rebuilds(config_dir, dtype):
    lines = ["a 1"] + [f"user{i}@example.com value-{i}" for i in range(2000)]
    src(config_dir, "F", "\n".join(lines) + "\n")
    postmap(config_dir, f"{dtype}:F", check=True)
    stop = threading.Event()
    results = []

    def query_loop():
        while not stop.is_set():
            results.append(postmap(config_dir, "-q", "a", f"{dtype}:F"))

    reader = threading.Thread(target=query_loop)
    started = time.monotonic()
    reader.start()
    try:
        for i in range(100):
            # Change the other entries so every build really writes new data.
            if i % 10 == 0:
                lines[1] = f"changing{i} {i}"
                src(config_dir, "F", "\n".join(lines) + "\n")
            r = postmap(config_dir, f"{dtype}:F")
            assert_silent_success(r)
    finally:
        stop.set()
        reader.join(30)
    elapsed = time.monotonic() - started
    bad = [r for r in results if (r.returncode, r.stdout, r.stderr) != (0, "1\n", "")]
    assert not bad, f"{len(bad)} of {len(results)} lookups failed, first:\n{bad[0]}"
    assert len(results) >= 10, (len(results), elapsed)
    assert elapsed < 10, elapsed
    assert leftovers(config_dir, ["F"]) == ["F" + SUFFIX[dtype]]


# --- T16: default_database_type --------------------------------------------------

def test_t16_default_database_type_lmdb(config_dir):
    config_dir.write_main_cf("default_database_type = lmdb\n")
    src(config_dir, "F", "x 1\n")
    assert_silent_success(postmap(config_dir, "F"))
    assert leftovers(config_dir, ["F"]) == ["F.lmdb"]
    assert_found(postmap(config_dir, "-q", "x", "F"), "1")
    assert_found(postmap(config_dir, "-q", "x", "lmdb:F"), "1")
    r = postmap(config_dir, "-q", "x", "hash:F")
    assert_fatal(r, "F.db")


# --- T17-T25: regexp and pcre ------------------------------------------------------

PATTERN_CASES = [
    # (id, type, file text, key, expected value or None for not found)
    ("t17", "regexp", "/^(.*)@example\\.com$/ $1@example.net\n",
     "Joe@Example.COM", "Joe@example.net"),
    ("t17-pcre", "pcre", "/^(.*)@example\\.com$/ $1@example.net\n",
     "Joe@Example.COM", "Joe@example.net"),
    ("t18-lower", "regexp", "/^ABC$/i x\n", "abc", None),
    ("t18-upper", "regexp", "/^ABC$/i x\n", "ABC", "x"),
    ("t18-default-insensitive", "regexp", "/^ABC$/ x\n", "abc", "x"),
    ("t18-pcre-lower", "pcre", "/^ABC$/i x\n", "abc", None),
    ("t18-pcre-upper", "pcre", "/^ABC$/i x\n", "ABC", "x"),
    ("t19-match", "regexp", "!/^x/ not-x\n", "abc", "not-x"),
    ("t19-nomatch", "regexp", "!/^x/ not-x\n", "xyz", None),
    ("t19-pcre", "pcre", "!/^x/ not-x\n", "abc", "not-x"),
    ("t20-inside", "regexp", "if /@example\\.com$/\n/^admin@/ A\nendif\n/^admin@/ B\n",
     "admin@example.com", "A"),
    ("t20-outside", "regexp", "if /@example\\.com$/\n/^admin@/ A\nendif\n/^admin@/ B\n",
     "admin@other.org", "B"),
    ("t20-not", "regexp", "if !/@example\\.com$/\n/^admin@/ A\nendif\n/^admin@/ B\n",
     "admin@other.org", "A"),
    ("t20-nested", "regexp", "if /^a/\nif /b$/\n/./ AB\nendif\n/./ A\nendif\n/./ Z\n",
     "axb", "AB"),
    ("t20-nested-outer", "regexp", "if /^a/\nif /b$/\n/./ AB\nendif\n/./ A\nendif\n/./ Z\n",
     "axc", "A"),
    ("t20-pcre", "pcre", "if /@example\\.com$/\n/^admin@/ A\nendif\n/^admin@/ B\n",
     "admin@example.com", "A"),
    ("t21", "regexp", "/(a)(b)/ ${2}x$$\n", "ab", "bx$"),
    ("t21-parens", "regexp", "/(a)(b)/ $(1)-$1-$2\n", "ab", "a-a-b"),
    ("t21-pcre", "pcre", "/(a)(b)/ ${2}x$$\n", "ab", "bx$"),
    ("t22", "regexp", "/a/ first\n/ab/ second\n", "ab", "first"),
    ("t22-pcre", "pcre", "/a/ first\n/ab/ second\n", "ab", "first"),
    ("t23-digits", "pcre", "/^\\d+$/ digits\n", "123", "digits"),
    ("t23-x", "pcre", "/^a b$/x ab\n", "ab", "ab"),
    ("t24", "regexp", "/[[:alpha:]]<!--.*-->[[:alpha:]]/ REJECT\n", "a<!-- x -->b", "REJECT"),
    ("t24-book", "regexp", "/[:alpha:]<!--.*-->[:alpha:]/ REJECT\n", "x<!-- -->y", None),
    ("delimiter", "regexp", "~^[[:alnum:]+/]{60,}$~ OK\n", "a/" * 31, "OK"),
    ("whitespace-in-pattern", "regexp", "/^a b$/ spaced result value\n", "a b",
     "spaced result value"),
    ("continued-result", "regexp", "/^x$/ one\n two\n", "x", "one two"),
    ("comment", "regexp", "# /^x$/ no\n/^x$/ yes\n", "x", "yes"),
]


@pytest.mark.parametrize("dtype, text, key, expected",
                         [c[1:] for c in PATTERN_CASES], ids=[c[0] for c in PATTERN_CASES])
def test_pattern_tables(config_dir, dtype, text, key, expected):
    f = src(config_dir, "F", text)
    r = postmap(config_dir, "-q", key, f"{dtype}:{f}")
    if expected is None:
        assert_not_found(r)
    else:
        assert_found(r, expected)
    assert not os.path.exists(f + ".db")


def test_t21_out_of_range_replacement(config_dir):
    f = src(config_dir, "F", "/(a)/ $2\n/a/ other\n")
    r = postmap(config_dir, "-q", "a", f"regexp:{f}")
    assert (r.returncode, r.stdout) == (0, "other\n"), r
    assert r.stderr_lines == [f'postmap: warning: regexp map {f}, line 1: out of range '
                              'replacement index "2": skipping this rule'], r
    f = src(config_dir, "G", "/(a)/ $2\n")
    r = postmap(config_dir, "-q", "a", f"regexp:{f}")
    assert (r.returncode, r.stdout) == (1, ""), r
    assert "out of range replacement index \"2\": skipping this rule" in r.stderr, r


@pytest.mark.parametrize("text, message", [
    ("!/(a)/ $1\n", "$number found in negative match replacement text: skipping this rule"),
    ("endif\n/a/ ok\n", "ignoring ENDIF without matching IF"),
    ("if /a/\n/a/ ok\n", "IF has no matching ENDIF"),
])
def test_regexp_diagnostics(config_dir, text, message):
    f = src(config_dir, "F", text)
    r = postmap(config_dir, "-q", "a", f"regexp:{f}")
    assert any(line.startswith(f"postmap: warning: regexp map {f}, line ")
               and line.endswith(message) for line in r.stderr_lines), r
    assert r.returncode in (0, 1) and "fatal" not in r.stderr, r


def test_regexp_no_replacement_text_is_an_error(config_dir):
    # Section 1: an empty result is a configuration error and a failed lookup;
    # section 9: command-line tools exit 1 on a failed lookup. (Postfix 3.7
    # prints an empty line and exits 0 here.)
    f = src(config_dir, "F", "/^x/\n")
    r = postmap(config_dir, "-q", "xavier", f"regexp:{f}")
    assert "no replacement text: using empty string" in r.stderr, r
    assert "empty string result" in r.stderr, r
    assert "should return NO RESULT in case of NOT FOUND" in r.stderr, r
    assert (r.returncode, r.stdout) == (1, ""), r


def test_static_empty_result_is_an_error(config_dir):
    r = postmap(config_dir, "-q", "a", "static:{}")
    assert "empty string result" in r.stderr, r
    assert "should return NO RESULT in case of NOT FOUND" in r.stderr, r
    assert (r.returncode, r.stdout) == (1, ""), r


def test_pattern_query_stdin(config_dir):
    f = src(config_dir, "F", "/^a/ A\n/^b(.*)/ B$1\n")
    r = postmap(config_dir, "-q", "-", f"regexp:{f}", input="apple\nzz\nbanana\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, "apple\tA\nbanana\tBanana\n", ""), r


def test_regexp_not_rebuilt_by_postmap(config_dir):
    # Pattern files are used as they are; "postmap regexp:F" makes no file.
    f = src(config_dir, "F", "/a/ b\n")
    postmap(config_dir, f"regexp:{f}")
    assert leftovers(config_dir, ["F"]) == []


# --- T25 and the message modes (-b, -h, -m) ----------------------------------------

MESSAGE = (
    "From: a@b\n"
    "Subject: buy\n"
    " viagra\n"
    'Content-Type: multipart/mixed; boundary="XX"\n'
    "\n"
    "body line 1\n"
    "--XX\n"
    "Content-Type: text/html\n"
    "\n"
    "body line 2\n"
    "--XX--\n"
)

MESSAGE_RULES = (
    "/^Subject: .*viagra/ REJECT\n"
    "/^Content-Type: text\\/html/ HTMLPART\n"
    "/^body line/ BODY\n"
    "/^Content-Type: multipart/ MP\n"
)


def test_t25_multiline_subject(config_dir):
    f = src(config_dir, "F", "/^Subject: .*viagra/ REJECT\n")
    msg = "From: a@b\nSubject: buy\n viagra\n\nSubject: buy viagra\n"
    r = postmap(config_dir, "-hmq", "-", f"regexp:{f}", input=msg)
    assert (r.returncode, r.stdout, r.stderr) == (0, "Subject: buy\n viagra\tREJECT\n", ""), r
    r = postmap(config_dir, "-hq", "-", f"regexp:{f}", input=msg)
    assert (r.returncode, r.stdout, r.stderr) == (0, "Subject: buy\n viagra\tREJECT\n", ""), r
    # -b never offers header lines; the body line does match.
    r = postmap(config_dir, "-bmq", "-", f"regexp:{f}", input=msg)
    assert (r.returncode, r.stdout, r.stderr) == (0, "Subject: buy viagra\tREJECT\n", ""), r
    r = postmap(config_dir, "-bmq", "-", f"regexp:{f}", input=msg.split("\n\n")[0] + "\n")
    assert_not_found(r)


@pytest.mark.parametrize("flags, expected", [
    # With -m the part header is a header, not a body line.
    ("-hmq", 'Subject: buy\n viagra\tREJECT\n'
             'Content-Type: multipart/mixed; boundary="XX"\tMP\n'
             'Content-Type: text/html\tHTMLPART\n'),
    ("-bmq", "body line 1\tBODY\nbody line 2\tBODY\n"),
    # Without -m everything after the first blank line is body.
    ("-hq", 'Subject: buy\n viagra\tREJECT\n'
            'Content-Type: multipart/mixed; boundary="XX"\tMP\n'),
    ("-bq", "body line 1\tBODY\nContent-Type: text/html\tHTMLPART\nbody line 2\tBODY\n"),
], ids=["hm", "bm", "h", "b"])
def test_message_modes_mime(config_dir, flags, expected):
    f = src(config_dir, "F", MESSAGE_RULES)
    r = postmap(config_dir, flags, "-", f"regexp:{f}", input=MESSAGE)
    assert (r.returncode, r.stdout, r.stderr) == (0, expected, ""), r


def test_message_mode_headers_and_body_together(config_dir):
    f = src(config_dir, "F", MESSAGE_RULES)
    r = postmap(config_dir, "-h", "-b", "-m", "-q", "-", f"regexp:{f}", input=MESSAGE)
    assert r.returncode == 0 and r.stderr == "", r
    out = r.stdout
    assert out.startswith("Subject: buy\n viagra\tREJECT\n"), r
    for line in ('Content-Type: multipart/mixed; boundary="XX"\tMP',
                 "Content-Type: text/html\tHTMLPART", "body line 1\tBODY",
                 "body line 2\tBODY"):
        assert line in out.split("\n"), r


def test_message_mode_with_fixed_key_table(config_dir):
    src(config_dir, "F", "bodyword found\nsubject: header\n")
    postmap(config_dir, "-w", "F", check=True)
    r = postmap(config_dir, "-bq", "-", "F", input="Subject: x\n\nBODYWORD\nother\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, "BODYWORD\tfound\n", ""), r


# --- usage errors -------------------------------------------------------------------

ONLY_ONE = re.compile(r"^postmap: fatal: specify only one of -s (or )?-q or -d\n$")


@pytest.mark.parametrize("args", [
    ["-q", "a", "-s"], ["-s", "-q", "a"], ["-q", "a", "-d", "b"],
    ["-d", "a", "-q", "b"], ["-s", "-d", "a"], ["-d", "a", "-s"]],
    ids=lambda a: " ".join(a))
def test_usage_only_one_of_s_q_d(config_dir, args):
    src(config_dir, "F", "a 1\n")
    postmap(config_dir, "F", check=True)
    r = postmap(config_dir, *args, "F")
    assert (r.returncode, r.stdout) == (1, ""), r
    assert ONLY_ONE.match(r.stderr), r


def test_usage_only_one_exact_text(config_dir):
    r = postmap(config_dir, "-q", "a", "-s", "F")
    assert (r.returncode, r.stdout) == (1, ""), r
    assert r.stderr == "postmap: fatal: specify only one of -s or -q or -d\n", r


@pytest.mark.parametrize("args", [["-b", "F"], ["-h", "F"], ["-m", "F"],
                                  ["-b", "-q", "a", "F"], ["-hm", "-s", "F"],
                                  ["-m", "-d", "a", "F"]],
                         ids=lambda a: " ".join(a))
def test_usage_message_flags_need_query_stdin(config_dir, args):
    src(config_dir, "F", "a 1\n")
    r = postmap(config_dir, *args)
    assert (r.returncode, r.stdout) == (1, ""), r
    assert r.stderr == 'postmap: fatal: specify -b -h or -m only with "-q -"\n', r


USAGE = ("postmap: fatal: usage: postmap [-bfFhimnNoprsuUvw] [-c config_dir] "
         "[-d key] [-q key] [map_type:]file...")


def test_usage_no_file(config_dir):
    r = postmap(config_dir)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", USAGE + "\n"), r
    r = postmap(config_dir, "-q", "x")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", USAGE + "\n"), r


def test_usage_bad_option(config_dir):
    r = postmap(config_dir, "-Z", "F")
    assert (r.returncode, r.stdout) == (1, ""), r
    assert r.stderr_lines[-1] == USAGE, r
    assert not os.path.exists(os.path.join(config_dir.path, "F.db"))


# --- a Berkeley DB file made by Postfix ------------------------------------------------

def debian_postmap(cd, *args):
    """Debian's /usr/sbin/postmap with MAIL_CONFIG pointing at an empty main.cf."""
    etc = os.path.join(os.path.dirname(cd.path), "debian-etc")
    os.makedirs(etc, exist_ok=True)
    main_cf = os.path.join(etc, "main.cf")
    open(main_cf, "w").close()
    # Postfix waits until a freshly written main.cf is a second old.
    os.utime(main_cf, (time.time() - 120, time.time() - 120))
    env = postern._clean_env({"MAIL_CONFIG": etc})
    return postern.run_command([DEBIAN_POSTMAP, *args], env=env, cwd=cd.path)


@pytest.mark.parametrize("dtype", ["hash", "btree"])
def test_berkeley_db_file_is_reported_not_read(config_dir, dtype):
    src(config_dir, "F", "a 1\n")
    r = debian_postmap(config_dir, f"{dtype}:F")
    assert r.returncode == 0, r
    for args in (["-q", "a"], ["-q", "zz"], ["-s"]):
        r = postmap(config_dir, *args, f"{dtype}:F")
        assert r.returncode == 1 and r.stdout == "", r
        assert "postmap: fatal: " in r.stderr and "F.db" in r.stderr, r
        assert re.search(r"rebuild", r.stderr, re.I), r
    r = postmap(config_dir, "-q", "-", f"{dtype}:F", input="a\n")
    assert r.returncode == 1 and r.stdout == "" and "F.db" in r.stderr, r
    # Rebuilding with Postern replaces it.
    assert_silent_success(postmap(config_dir, f"{dtype}:F"))
    assert_found(postmap(config_dir, "-q", "a", f"{dtype}:F"), "1")
    assert leftovers(config_dir, ["F"]) == ["F.db"]


# --- fatal errors leave the previous table untouched -------------------------------------

def _table_state(cd, name):
    path = os.path.join(cd.path, name)
    with open(path, "rb") as f:
        data = f.read()
    return data, os.stat(path).st_ino


@pytest.mark.parametrize("dtype", INDEXED)
def test_missing_source_leaves_table(config_dir, dtype):
    src(config_dir, "F", "a 1\n")
    postmap(config_dir, f"{dtype}:F", check=True)
    before = _table_state(config_dir, "F" + SUFFIX[dtype])
    os.unlink(os.path.join(config_dir.path, "F"))
    r = postmap(config_dir, f"{dtype}:F")
    assert_fatal(r, "F")
    assert "No such file or directory" in r.stderr, r
    assert _table_state(config_dir, "F" + SUFFIX[dtype]) == before
    assert_found(postmap(config_dir, "-q", "a", f"{dtype}:F"), "1")
    assert leftovers(config_dir, []) == ["F" + SUFFIX[dtype]]


@pytest.mark.parametrize("dtype", INDEXED)
def test_unreadable_source_leaves_table(tmp_path, dtype):
    # Run as an unprivileged account when we are root: root reads anything.
    user = postern._test_user() if os.geteuid() == 0 else None
    top = tempfile.mkdtemp(prefix="postern-postmap-")
    try:
        if user is not None:
            os.chown(top, user.pw_uid, user.pw_gid)
        cd = postern.ConfigDir(os.path.join(top, "etc"), user=user)
        src(cd, "F", "a 1\n")
        postmap(cd, f"{dtype}:F", check=True)
        before = _table_state(cd, "F" + SUFFIX[dtype])
        src(cd, "F", "a 2\n", mode=0)
        r = postmap(cd, f"{dtype}:F")
        assert_fatal(r, "F", "Permission denied")
        assert _table_state(cd, "F" + SUFFIX[dtype]) == before
        assert_found(postmap(cd, "-q", "a", f"{dtype}:F"), "1")
        assert leftovers(cd, ["F"]) == ["F" + SUFFIX[dtype]]
    finally:
        shutil.rmtree(top)


@pytest.mark.parametrize("dtype", INDEXED)
def test_read_error_leaves_table(config_dir, dtype):
    # A directory opens but cannot be read: "read F: Is a directory".
    src(config_dir, "F", "a 1\n")
    postmap(config_dir, f"{dtype}:F", check=True)
    before = _table_state(config_dir, "F" + SUFFIX[dtype])
    os.unlink(os.path.join(config_dir.path, "F"))
    os.mkdir(os.path.join(config_dir.path, "F"))
    r = postmap(config_dir, f"{dtype}:F")
    assert_fatal(r, "F")
    assert _table_state(config_dir, "F" + SUFFIX[dtype]) == before
    assert_found(postmap(config_dir, "-q", "a", f"{dtype}:F"), "1")
    assert leftovers(config_dir, ["F"]) == ["F" + SUFFIX[dtype]]


# --- T26, T27: cidr ---------------------------------------------------------------

CIDR = "192.168.1.1 OK\n192.168.0.0/16 REJECT\n2001:db8::/32 REJECT\n"


@pytest.mark.parametrize("key, expected", [
    ("192.168.1.1", "OK"), ("192.168.7.7", "REJECT"), ("2001:db8::5", "REJECT"),
    ("2001:0db8:0000::0005", "REJECT"), ("10.0.0.1", None), ("2001:db9::1", None),
    ("192.168.1.2", "REJECT"), ("not-an-address", None)])
def test_t26_cidr(config_dir, key, expected):
    f = src(config_dir, "F", CIDR)
    r = postmap(config_dir, "-q", key, f"cidr:{f}")
    if expected is None:
        assert_not_found(r)
    else:
        assert_found(r, expected)


@pytest.mark.parametrize("text, key, expected", [
    ("[192.168.1.1] A\n", "192.168.1.1", "A"),
    ("!10.0.0.0/8 notten\n", "11.1.1.1", "notten"),
    ("!10.0.0.0/8 notten\n", "10.1.1.1", None),
    ("if 10.0.0.0/8\n10.1.0.0/16 inner\nendif\n0.0.0.0/0 other\n", "10.1.2.3", "inner"),
    ("if 10.0.0.0/8\n10.1.0.0/16 inner\nendif\n0.0.0.0/0 other\n", "10.2.2.3", "other"),
    ("10.0.0.0/8 first\n10.1.0.0/16 second\n", "10.1.1.1", "first"),
    ("::/0 v6\n", "::1", "v6"),
    ("::/0 v6\n", "127.0.0.1", None),
])
def test_cidr_forms(config_dir, text, key, expected):
    f = src(config_dir, "F", text)
    r = postmap(config_dir, "-q", key, f"cidr:{f}")
    if expected is None:
        assert_not_found(r)
    else:
        assert_found(r, expected)


def test_t27_cidr_bad_rules(config_dir):
    f = src(config_dir, "F", "192.168.1.1/24 X\n10.0.0.0/33 Y\nfoo Z\n0.0.0.0/0 ALL\n")
    r = postmap(config_dir, "-q", "192.168.1.1", f"cidr:{f}")
    assert (r.returncode, r.stdout) == (0, "ALL\n"), r
    assert r.stderr_lines == [
        f'postmap: warning: cidr map {f}, line 1: non-null host address bits in '
        '"192.168.1.1/24", perhaps you should use "192.168.1.0/24" instead: '
        'skipping this rule',
        f'postmap: warning: cidr map {f}, line 2: bad mask length in "10.0.0.0/33": '
        'skipping this rule',
        f'postmap: warning: cidr map {f}, line 3: bad address pattern: "foo": '
        'skipping this rule'], r


# --- T28-T30: static, inline, texthash, environ, unix, fail ------------------------------

@pytest.mark.parametrize("table, key, expected", [
    ("static:foo", "anything", "foo"),
    ("static:{ a b }", "k", "a b"),
    ("inline:{a=1, b=2, { c = x y }}", "b", "2"),
    ("inline:{a=1, b=2, { c = x y }}", "B", "2"),
    ("inline:{a=1, b=2, { c = x y }}", "c", "x y"),
    ("inline:{a=1, b=2, { c = x y }}", "z", None),
    ("inline:{ a=1 b=2 }", "b", "2"),
], ids=lambda v: str(v))
def test_t28_static_and_inline(config_dir, table, key, expected):
    r = postmap(config_dir, "-q", key, table)
    if expected is None:
        assert_not_found(r)
    else:
        assert_found(r, expected)


@pytest.mark.parametrize("table", ["inline:{ }", "inline:{a}", "inline:{a=1, b}"])
def test_inline_errors(config_dir, table):
    r = postmap(config_dir, "-q", "a", table)
    assert_fatal(r, 'need "inline:{name=value...}"')


def test_t29_texthash(config_dir):
    src(config_dir, "F", "a 1\nB  two words\n# c\nc 3,\n 4\n")
    assert_found(postmap(config_dir, "-q", "a", "texthash:F"), "1")
    assert_found(postmap(config_dir, "-q", "b", "texthash:F"), "two words")
    assert_found(postmap(config_dir, "-q", "c", "texthash:F"), "3, 4")
    assert_not_found(postmap(config_dir, "-q", "z", "texthash:F"))
    r = postmap(config_dir, "-q", "-", "texthash:F", input="a\nz\nb\n")
    assert (r.returncode, r.stdout) == (0, "a\t1\nb\ttwo words\n"), r
    assert leftovers(config_dir, ["F"]) == []


def test_t29_texthash_missing_file(config_dir):
    r = postmap(config_dir, "-q", "a", "texthash:nosuch")
    assert_fatal(r, "nosuch")


def test_t30_environ(config_dir):
    r = postmap(config_dir, "-f", "-q", "HOME", "environ:x", env={"HOME": "/h"})
    assert_found(r, "/h")
    r = postmap(config_dir, "-q", "HOME", "environ:x", env={"HOME": "/h"})
    assert_not_found(r)


def test_t30_unix_passwd(config_dir):
    r = postmap(config_dir, "-q", "root", "unix:passwd.byname")
    assert r.returncode == 0 and r.stderr == "", r
    assert r.stdout.startswith("root:") and r.stdout.count("\n") == 1, r
    assert r.stdout.split(":")[2] == "0", r
    assert_not_found(postmap(config_dir, "-q", "no-such-user-x", "unix:passwd.byname"))
    r = postmap(config_dir, "-q", "root", "unix:group.byname")
    assert r.returncode == 0 and r.stdout.startswith("root:"), r


def test_t30_fail(config_dir):
    r = postmap(config_dir, "-q", "x", "fail:t")
    assert (r.returncode, r.stdout) == (1, ""), r
    assert "postmap: fatal: " in r.stderr and "fail:t" in r.stderr, r


def test_lookup_error_stops_the_search(config_dir):
    # Section 7.1: an error in the first table is not skipped.
    r = postmap(config_dir, "-q", "x", "fail:t", "static:found")
    assert (r.returncode, r.stdout) == (1, ""), r
    assert "postmap: fatal: " in r.stderr, r


# --- T53: postconf -m ---------------------------------------------------------------

REQUIRED_TYPES = "cidr environ fail hash inline pcre proxy regexp static texthash unix".split()
OPTIONAL_TYPES = "btree cdb ldap lmdb memcache mysql pgsql socketmap sqlite".split()


def test_t53_postconf_m(config_dir):
    r = config_dir.postconf("-m", check=True)
    types = r.stdout_lines
    assert types == sorted(types) and len(types) == len(set(types)), r
    assert not set(REQUIRED_TYPES) - set(types), r
    # This project builds with LMDB and tinycdb (tools/packages).
    assert {"btree", "lmdb", "cdb"} <= set(types), r


def test_t53_every_listed_type_is_supported(config_dir):
    types = config_dir.postconf("-m", check=True).stdout_lines
    src(config_dir, "F", "a 1\n")
    names = {"inline": "{a=1}", "unionmap": "{static:x}", "pipemap": "{static:x}",
             "unix": "passwd.byname", "nis": "mail.aliases",
             "socketmap": "inet:127.0.0.1:1:x", "static": "x", "environ": "x"}
    for t in types:
        if t == "proxy":  # queries would wait for the proxymap service
            r = postmap(config_dir, "proxy:hash:F")
            assert_fatal(r, "can't create maps via the proxy service")
            continue
        name = names.get(t, os.path.join(config_dir.path, "F"))
        r = postmap(config_dir, "-q", "a", f"{t}:{name}", timeout=30)
        assert "unsupported dictionary type" not in r.stderr, r


def test_unknown_type_not_listed(config_dir):
    types = config_dir.postconf("-m", check=True).stdout_lines
    assert "nosuchtype" not in types
    for t in ("dbm", "sdbm"):
        if t not in types:
            r = postmap(config_dir, "-q", "a", f"{t}:F")
            assert r.stderr == f"postmap: fatal: unsupported dictionary type: {t}\n", r
