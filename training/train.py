"""Training entry point (SageMaker script mode and local runs): see training/README.md.

Reads the environment of the SageMaker training contract (SM_CHANNEL_TRAIN, SM_HPS, SM_MODEL_DIR,
SM_OUTPUT_DIR, ...), never the command line: the training toolkit also passes the
hyperparameters as arguments, and SM_HPS is the one typed source.

Exit codes: 0 done; 2 bad input (one line on stderr, the same line in $SM_OUTPUT_DIR/failure);
1 an internal error (traceback on stderr, the failure file says which).
"""

from __future__ import annotations

import os
import signal
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from quant_ml.errors import InputError  # noqa: E402
from quant_ml.job import run, write_failure  # noqa: E402


class Terminated(BaseException):
    """SIGTERM (a stopped job, a spot interruption, a local timeout): unwinds so that temporary
    files are removed; the checkpoints written so far stay for the resumed job."""


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise Terminated()


def main(env: dict[str, str] | None = None) -> int:
    env = dict(os.environ) if env is None else env
    # before CUDA initialises: deterministic cuBLAS when a GPU is used
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    try:
        run(env)
        return 0
    except Terminated:
        print("error: terminated by SIGTERM (checkpoints kept for a resumed run)", file=sys.stderr, flush=True)
        write_failure(env, "terminated by SIGTERM")
        return 128 + signal.SIGTERM
    except InputError as e:
        msg = str(e).replace("\n", " ")
        print(f"error: {msg}", file=sys.stderr, flush=True)
        write_failure(env, msg)
        return 2
    except Exception as e:  # noqa: BLE001 (report any crash to SageMaker, then fail)
        traceback.print_exc()
        write_failure(env, f"internal error: {type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.exit(main())
