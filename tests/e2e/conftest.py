"""pytest fixtures for Postern's end-to-end tests (harness: postern.py).

Fixtures:
    instance        a fresh rootless Instance, stopped and removed afterwards
    make_instance   factory for more instances in one test (C41)
    config_dir      a ConfigDir: empty main.cf and master.cf in a temp dir
    empty_config_dir  alias of config_dir for tests that never write to it

When a test fails, its report gets each instance's log tail. Set
POSTERN_KEEP=1 to keep instance directories for inspection.
"""

import pytest

import postern


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for inst in getattr(item, "_postern_instances", []):
            report.sections.append((f"postern instance {inst.root} log tail",
                                    inst.log_tail()))


@pytest.fixture
def make_instance(request):
    """make_instance(**kwargs) -> Instance; all are closed at teardown."""
    made = []
    request.node._postern_instances = made

    def make(**kwargs):
        inst = postern.Instance(**kwargs)
        made.append(inst)
        return inst

    yield make
    errors = [e for e in (inst.close() for inst in reversed(made)) if e]
    if errors:
        pytest.fail("instance did not stop cleanly:\n" + "\n".join(errors))


@pytest.fixture
def instance(make_instance):
    """A rootless instance with main.cf/master.cf written, not yet started."""
    return make_instance()


@pytest.fixture
def config_dir(tmp_path):
    """A config directory with an empty main.cf and an empty master.cf."""
    return postern.ConfigDir(tmp_path / "etc")


@pytest.fixture
def empty_config_dir(config_dir):
    """config_dir, for tests that only read built-in defaults."""
    return config_dir
