"""End-to-end tests of SYSTEM mode (config.md sections 5 and 10, design.md
"Two ways to run", queue.md section 2): the master started by root, daemons
as mail_owner, the queue with Postfix's owners and modes, a set-gid postdrop
used by an ordinary user, and the start-up account checks.

These tests need root (Instance(system=True) fails otherwise; they run Postern's programs as root through
Instance(system=True)) and the accounts of Debian's postfix package: user
`postfix`, group `postdrop` (tools/packages installs it).

The set-gid rule for -C/MAIL_CONFIG: a set-gid postdrop honours a config
directory from a non-root user only when the DEFAULT main.cf
(/etc/postfix/main.cf) lists it in alternate_config_directories. The
sandbox has no /etc/postfix/main.cf and the tests must not create one, so
the ordinary user's sendmail runs in a private mount namespace (`unshare
-m`) where a test-owned directory is bind-mounted over /etc/postfix: the
rule is exercised as written, with a listed and an unlisted directory.
"""

import grp
import os
import pwd
import shutil
import stat
import subprocess
import time

import pytest

import postern

MASTER_CF = """\
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
"""

MESSAGE = "Subject: system mode\n\nhello from an ordinary user\n"


def ids():
    """uid/gid of mail_owner, setgid_group and the submitting user."""
    return (pwd.getpwnam("postfix"), grp.getgrnam("postdrop"),
            pwd.getpwnam("nobody"))


def setgid_postdrop(inst):
    """Install a copy of the build's postdrop root:postdrop 2755 in a
    command_directory the test controls, and point main.cf at it (sendmail
    runs $command_directory/postdrop)."""
    cmd_dir = os.path.join(inst.root, "sbin")
    os.makedirs(cmd_dir)
    os.chmod(cmd_dir, 0o755)
    dst = os.path.join(cmd_dir, "postdrop")
    shutil.copy(os.path.join(postern.BIN_DIR, "postdrop"), dst)
    os.chown(dst, 0, grp.getgrnam("postdrop").gr_gid)
    os.chmod(dst, 0o2755)
    inst.settings["command_directory"] = cmd_dir
    return dst


def default_config(inst, listed):
    """A stand-in for /etc/postfix: main.cf listing (or not) the instance's
    config directory in alternate_config_directories."""
    d = os.path.join(inst.root, "default-etc")
    os.makedirs(d)
    os.chmod(d, 0o755)
    with open(os.path.join(d, "main.cf"), "w") as f:
        f.write(f"alternate_config_directories = {inst.path if listed else ''}\n")
    return d


def sendmail_as(inst, user, default_etc, *args):
    """`sendmail -C DIR ARGS` as USER (a pwd entry; no supplementary
    groups), with DEFAULT_ETC mounted on /etc/postfix in a private mount
    namespace."""
    script = ('mount --bind "$0" /etc/postfix && exec setpriv '
              f'--reuid={user.pw_uid} --regid={user.pw_gid} --clear-groups -- "$@"')
    argv = ["/usr/bin/unshare", "-m", "/bin/sh", "-c", script, default_etc,
            os.path.join(postern.BIN_DIR, "sendmail"), "-C", inst.path, *args]
    return postern.run_command(argv, input=MESSAGE, cwd="/", timeout=15)


def process_user(pid):
    """`ps -o user= -p PID`."""
    return subprocess.run(["ps", "-o", "user=", "-p", str(pid)], capture_output=True,
                          text=True, check=True).stdout.strip()


def children(pid):
    """{command name: pid} of the master's service processes."""
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(pid)],
                         capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        p, comm = line.split(None, 1)
        found[comm.strip()] = int(p)
    return found


def check_queue_layout(inst):
    """queue.md 2 / config.md 10 owners and modes."""
    owner, postdrop, _ = ids()
    want = {d: (owner.pw_uid, None, 0o700) for d in (
        "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold",
        "incoming", "private", "saved", "trace")}
    want["maildrop"] = (owner.pw_uid, postdrop.gr_gid, 0o730)
    want["public"] = (owner.pw_uid, postdrop.gr_gid, 0o710)
    want["pid"] = (0, None, 0o755)
    for name, (uid, gid, mode) in want.items():
        st = os.stat(os.path.join(inst.queue_dir, name))
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (uid, mode), (name, st)
        if gid is not None:
            assert st.st_gid == gid, (name, st)
    st = os.stat(inst.queue_dir)
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o755)
    st = os.stat(inst.data_dir)
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (owner.pw_uid, 0o700)


def test_system_mode_end_to_end(make_instance):
    owner, _, nobody = ids()
    inst = make_instance(system=True)
    setgid_postdrop(inst)
    inst.write_main_cf("")
    inst.write_master_cf(MASTER_CF)

    started = inst.start(timeout=10)
    assert "warning" not in started.stderr, started.stderr
    check_queue_layout(inst)
    master = inst.master_pid()
    assert process_user(master) == "root"
    # The daemons (as mail_owner) write maillog_file themselves: it is theirs.
    st = os.stat(inst.log_file)
    assert (st.st_uid, st.st_mode & 0o777) == (owner.pw_uid, 0o600)

    # An ordinary user submits through the set-gid postdrop; the default
    # main.cf lists the instance, so -C is honoured.
    mark = inst.log_mark()
    result = sendmail_as(inst, nobody, default_config(inst, listed=True),
                         "-f", "alice@example.com", "bob@example.com")
    assert result.returncode == 0, str(result) + inst.log_tail()
    m = inst.wait_log(rf"postfix/pickup\[\d+\]: ([0-9A-Za-z]+): uid={nobody.pw_uid} "
                      r"from=<alice@example\.com>$", since=mark)
    qid = m.group(1)
    assert inst.wait_queued(1) == [qid]
    assert os.stat(os.path.join(inst.queue_dir, "incoming", qid)).st_uid == owner.pw_uid
    # pickup removes the maildrop file once cleanup has answered, which is
    # just after the queue file became complete.
    deadline = time.monotonic() + 10
    while os.listdir(os.path.join(inst.queue_dir, "maildrop")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.listdir(os.path.join(inst.queue_dir, "maildrop")) == []
    text = inst.postcat(qid)
    assert "recipient: bob@example.com" in text
    assert f"from userid {nobody.pw_uid})" in text
    assert "hello from an ordinary user" in text

    # Daemons other than unprivileged=n ones run as mail_owner.
    procs = children(master)
    assert "pickup" in procs and "cleanup" in procs, procs
    assert process_user(procs["pickup"]) == "postfix"
    assert process_user(procs["cleanup"]) == "postfix"

    # Root may use any config directory, listed or not.
    mark = inst.log_mark()
    result = inst.run("sendmail", "-f", "root@example.com", "carol@example.com",
                      input=MESSAGE)
    assert result.returncode == 0, str(result) + inst.log_tail()
    inst.wait_log(r"postfix/pickup\[\d+\]: [0-9A-Za-z]+: uid=0 from=<root@example\.com>$",
                  since=mark)

    stopped = inst.stop(timeout=10)
    assert "stopping the Postfix mail system" in stopped.stderr


def test_setgid_postdrop_refuses_unlisted_config_dir(make_instance):
    _, _, nobody = ids()
    inst = make_instance(system=True)
    setgid_postdrop(inst)
    inst.write_main_cf("")
    inst.write_master_cf(MASTER_CF)
    inst.postfix("check", check=True)
    result = sendmail_as(inst, nobody, default_config(inst, listed=False),
                         "bob@example.com")
    assert result.returncode != 0
    assert f"postdrop: fatal: untrusted configuration directory name: {inst.path}" \
        in result.stderr, str(result)
    assert os.listdir(os.path.join(inst.queue_dir, "maildrop")) == []


def test_check_warns_about_owners(make_instance):
    inst = make_instance(system=True)
    inst.write_master_cf(MASTER_CF)
    # The build's postdrop is not installed set-gid.
    err = inst.postfix("check", check=True).stderr
    build_postdrop = os.path.join(postern.BIN_DIR, "postdrop")
    assert f"warning: not owned by group postdrop: {build_postdrop}" in err, err
    assert "warning: not set-gid or not owner+group+world executable: " \
        f"{build_postdrop}" in err, err
    setgid_postdrop(inst)
    inst.write_main_cf("")
    assert inst.postfix("check", check=True).stderr == ""
    check_queue_layout(inst)
    incoming = os.path.join(inst.queue_dir, "incoming")
    maildrop = os.path.join(inst.queue_dir, "maildrop")
    os.chown(incoming, 0, 0)
    os.chown(maildrop, pwd.getpwnam("postfix").pw_uid, 0)
    os.chown(inst.queue_dir, pwd.getpwnam("postfix").pw_uid, 0)
    err = inst.postfix("check", check=True).stderr
    assert f"postfix/postfix-script: warning: not owned by postfix: {incoming}" in err, err
    assert f"postfix/postfix-script: warning: not owned by group postdrop: {maildrop}" in err, err
    assert f"postfix/postfix-script: warning: not owned by root: {inst.queue_dir}" in err, err


@pytest.mark.parametrize("setting, text", [
    ("mail_owner = nosuchuser",
     "parameter mail_owner: unknown user name value: nosuchuser"),
    ("mail_owner = root", "parameter mail_owner: user root has privileged user ID"),
    ("setgid_group = nosuchgroup",
     "parameter setgid_group: unknown group name: nosuchgroup"),
    ("setgid_group = root", "parameter setgid_group: group root has privileged group ID"),
    ("default_privs = postfix",
     "parameters default_privs and mail_owner specify the same user postfix"),
    ("setgid_group = postfix",
     "parameters mail_owner and setgid_group: user postfix and group postfix "
     "have the same group ID: " + str(grp.getgrnam("postfix").gr_gid)),
])
def test_account_check_is_fatal(make_instance, setting, text):
    inst = make_instance(system=True)
    inst.write_main_cf(setting + "\n")
    inst.write_master_cf(MASTER_CF)
    for command in ("check", "start"):
        result = inst.postfix(command)
        assert result.returncode == 1, result
        assert f"postfix/postfix-script: fatal: file {inst.main_cf}: {text}" in result.stderr, result
    assert inst.master_pid() is None
    # Nothing was created with the wrong owners before the check failed.
    assert not os.path.exists(inst.queue_dir)


def test_system_mode_delivery_and_bounce(make_instance):
    """The back half in system mode: qmgr, trivial-rewrite, the error agent
    and the bounce service run as mail_owner; a bounce leaves a notice and
    the queue empties; mailq works for an ordinary user."""
    owner, _, nobody = ids()
    inst = make_instance(system=True)
    postdrop = setgid_postdrop(inst)
    postqueue = os.path.join(os.path.dirname(postdrop), "postqueue")
    shutil.copy(os.path.join(postern.BIN_DIR, "postqueue"), postqueue)
    os.chown(postqueue, 0, grp.getgrnam("postdrop").gr_gid)
    os.chmod(postqueue, 0o2755)
    inst.write_main_cf("default_transport = error:5.1.2 no such domain here\n")
    inst.write_master_cf(MASTER_CF + "qmgr unix n - n 300 1 qmgr\n"
                         "rewrite unix - - n - - trivial-rewrite\n"
                         "bounce unix - - n - 0 bounce\n"
                         "defer unix - - n - 0 bounce\n"
                         "trace unix - - n - 0 bounce\n"
                         "error unix - - n - - error\n"
                         "showq unix n - n - - showq\n")
    inst.start(timeout=10)
    etc = default_config(inst, listed=True)
    mark = inst.log_mark()
    result = sendmail_as(inst, nobody, etc, "-f", "alice@example.com", "bob@example.com")
    assert result.returncode == 0, str(result) + inst.log_tail()
    qid = inst.wait_log(r"postfix/error\[\d+\]: ([0-9A-Za-z]+): to=<bob@example\.com>, relay=none, "
                        r".*dsn=5\.1\.2, status=bounced \(no such domain here\)$", since=mark).group(1)
    notice = inst.wait_log(rf"postfix/bounce\[\d+\]: {qid}: sender non-delivery notification: "
                           r"([0-9A-Za-z]+)$", since=mark).group(1)
    inst.wait_log(rf"postfix/qmgr\[\d+\]: {qid}: removed$", since=mark)
    # The notice to alice@example.com bounces too and is dropped (null sender).
    inst.wait_log(rf"postfix/qmgr\[\d+\]: {notice}: removed$", since=mark)
    inst.wait_queue_empty()
    procs = children(inst.master_pid())
    for name in ("qmgr", "trivial-rewrite"):
        assert name in procs and process_user(procs[name]) == "postfix", procs
    result = sendmail_as(inst, nobody, etc, "-bp")
    assert result.returncode == 0, str(result)
    assert result.stdout.strip() == "Mail queue is empty"
    inst.stop(timeout=10)
