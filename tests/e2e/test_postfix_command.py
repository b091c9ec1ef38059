"""The postfix command: config.md section 5, checks C37 and C40, and the
queue issue's acceptance (start twice, stop when stopped, check on a broken
configuration)."""

import re

MASTER_CF = "pickup unix n - n 60 1 pickup\ncleanup unix n - n - 0 cleanup\n"


def test_start_twice_status_stop_twice(instance):
    instance.write_master_cf(MASTER_CF)
    first = instance.start()
    assert first.returncode == 0
    instance.wait_log(r"postfix/master\[\d+\]: daemon started -- version \S+, configuration "
                      + re.escape(instance.config_dir))

    again = instance.run("postfix", "start")
    assert again.returncode == 1
    assert "fatal: the Postfix mail system is already running" in again.stdout + again.stderr

    status = instance.run("postfix", "status")
    assert status.returncode == 0
    pid = instance.master_pid()
    assert f"the Postfix mail system is running: PID: {pid}" in status.stdout + status.stderr
    with open(f"{instance.queue_dir}/pid/master.pid") as f:
        assert f.read().rstrip("\n") == f"{pid:>32}"  # right-aligned in 32 columns (config.md 4)

    stop = instance.stop()
    assert stop.returncode == 0
    status = instance.run("postfix", "status")
    assert status.returncode == 1
    assert "the Postfix mail system is not running" in status.stdout + status.stderr
    again = instance.run("postfix", "stop")
    assert again.returncode == 1
    assert "fatal: the Postfix mail system is not running" in again.stdout + again.stderr


def test_check_reports_a_broken_main_cf(instance):
    instance.write_main_cf("message_size_limit = lots\n")
    result = instance.run("postfix", "check")
    assert result.returncode != 0
    assert re.search(r"fatal: .*main\.cf.*message_size_limit", result.stdout + result.stderr), result


def test_check_reports_a_broken_master_cf(instance):
    instance.write_master_cf("cleanup unix n - n - 0 cleanup\nbroken nosuchtype n - n - - x\n")
    result = instance.run("postfix", "check")
    assert result.returncode != 0
    assert re.search(r"master\.cf: line 2: bad transport type: nosuchtype", result.stdout + result.stderr), result
    start = instance.run("postfix", "start")
    assert start.returncode != 0 and instance.master_pid() is None
