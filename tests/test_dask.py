"""The solve stage on Dask (prefect-dask): the same flow, the same files as on threads.

One run starts its own local cluster (task_runner=dask); one is pointed at the address of a
scheduler that is already running, as a multi-machine cluster would be. Both must publish exactly
the files of the thread-pool run.
"""

from pathlib import Path

import pytest

from data_contracts.config import RunConfig
from data_contracts.registry import OUTPUT_FILES
from tests.conftest import AS_OF

FILES = [c.filename for c in OUTPUT_FILES.values()]


def _run(firm: Path, var: Path, config: RunConfig) -> tuple[dict, dict[str, bytes]]:
    from flows.daily_rebalance import daily_rebalance

    s = daily_rebalance(input_dir=firm, as_of=AS_OF, var_dir=var, config=config)
    return s, {f: (Path(s["output_dir"]) / f).read_bytes() for f in FILES}


@pytest.fixture(scope="module")
def on_threads(small_firm, tmp_path_factory, prefect_local):
    return _run(small_firm, tmp_path_factory.mktemp("threads") / "var", RunConfig(batch_size=10))


def test_a_local_dask_cluster_publishes_the_same_files(small_firm, tmp_path, on_threads):
    s, files = _run(small_firm, tmp_path / "var", RunConfig(batch_size=10, task_runner="dask", workers=2))
    assert s["task_runner"] == "dask" and s["batches"] == 6  # 60 households in batches of 10
    assert s["households_solved"] == on_threads[0]["households_solved"] == 60
    assert files == on_threads[1]


def test_a_running_scheduler_at_an_address_takes_the_batches(small_firm, tmp_path, on_threads):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        config = RunConfig(batch_size=10, task_runner="dask", dask_address=cluster.scheduler_address)
        s, files = _run(small_firm, tmp_path / "var", config)
        # The scheduler ran them: its workers' task log holds the batches.
        ran = [k for k in client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))]
    assert s["task_runner"] == f"dask {cluster.scheduler_address}" and s["batches"] == 6
    assert files == on_threads[1]
    assert ran, "the scheduler saw no tasks"
