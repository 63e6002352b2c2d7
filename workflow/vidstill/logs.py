"""Logging for workflow scripts: everything a job says (logging, tqdm progress, tracebacks) goes to its `log:` file."""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def job_log(path: str | Path) -> Iterator[logging.Logger]:
    """Send the `vidstill` loggers and stderr (tqdm writes there) to `path` for the duration of a job.

    An exception is written to the log with its traceback and re-raised, so Snakemake marks the job failed and the
    log says why.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", buffering=1) as stream:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger = logging.getLogger("vidstill")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        old_stderr = sys.stderr
        sys.stderr = stream
        try:
            yield logger
        except BaseException:
            stream.write(traceback.format_exc())
            raise
        finally:
            sys.stderr = old_stderr
            logger.removeHandler(handler)
