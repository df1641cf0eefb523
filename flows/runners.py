"""The task runner household batches run on (RunConfig.task_runner).

``threads``: a thread pool in the flow's process; batches read the day from memory.
``dask``: prefect-dask's DaskTaskRunner, on the scheduler at ``dask_address`` (a multi-machine
cluster) or, without one, a local cluster of ``workers`` processes with one thread each (the LP
solves run truly in parallel). Batches then get a ``StagedDay`` — the path of the day's staged
Parquet — and load their own households on the worker, so no firm-sized frame is shipped. The
workers of a remote cluster need PREFECT_API_URL (and PREFECT_API_AUTH_STRING) set to the firm's
server, like any Prefect client.
"""

from __future__ import annotations

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from data_contracts.config import RunConfig


def batch_task_runner(config: RunConfig) -> TaskRunner:
    if config.task_runner == "threads":
        return ThreadPoolTaskRunner(max_workers=config.workers)
    from prefect_dask import DaskTaskRunner  # imported only when asked for: distributed is heavy to import

    if config.dask_address:
        return DaskTaskRunner(address=config.dask_address)
    # Processes, one thread each: the LP build is Python and holds the GIL. No dashboard port is
    # opened (dashboard_address=None): the run should not listen on anything it does not need.
    # The workers report their task runs to this flow's Prefect API: without the address, a worker
    # would start a temporary server of its own (the flow's may be one, known only to its client).
    return DaskTaskRunner(cluster_kwargs={"n_workers": config.workers, "threads_per_worker": 1, "processes": True,
                                          "dashboard_address": None, "env": {"PREFECT_API_URL": current_api_url()}})


def current_api_url() -> str:
    """The API this process's Prefect client talks to: the configured server, or the temporary one."""
    from prefect.client.orchestration import get_client

    return str(get_client(sync_client=True).api_url).rstrip("/")


def wait_until_ready(runner: TaskRunner, config: RunConfig) -> None:
    """Return once a local Dask cluster's workers are up, so their start-up is timed as the runner's
    start and not as orchestration overhead (with a remote scheduler, its workers are already up)."""
    if config.task_runner == "dask" and not config.dask_address:
        runner.client.wait_for_workers(config.workers, timeout=300)
