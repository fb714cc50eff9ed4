"""Load: a bounded Locust load the scenarios run under (the LoadDriver port, its Locust adapter, a fake).

from harness.load import LocustLoad, LocustSettings, running

driver = LocustLoad(LocustSettings(Path("load/locustfile.py"), pushgateway_url="http://127.0.0.1:10403"))
with running(driver, scenario.load, scenario.windows.total, run_id) as load:
    ...                      # load.progress() -> LoadProgress(rps, failures, users, requests)
load.summary                 # LoadSummary, also after an exception in the block
"""

from harness.load.bounds import check_level, check_loopback, check_run_id
from harness.load.driver import LoadDriver, LoadError, LoadProgress, LoadSummary, RunningLoad, running
from harness.load.fake import FakeLoad
from harness.load.locustload import LocustLoad, LocustSettings
from harness.load.pushgateway import delete_stale_groups

__all__ = [
    "FakeLoad",
    "LoadDriver",
    "LoadError",
    "LoadProgress",
    "LoadSummary",
    "LocustLoad",
    "LocustSettings",
    "RunningLoad",
    "check_level",
    "check_loopback",
    "check_run_id",
    "delete_stale_groups",
    "running",
]
