"""Loading the recognizer's models leaves numpy's BLAS on one thread (blas_threads.py).

Threaded, OpenBLAS split the recognizer's small products over both cores and its idle
threads spun: twice the CPU for the same streams (BENCHMARKS.md, eighteenth session).
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json
import numpy
from threadpoolctl import threadpool_info

def blas():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

before = blas()
from floorcoach.audio.listening.command_head import CommandHead
from floorcoach.audio.listening.phrase_verifier import PhraseVerifier
CommandHead()
PhraseVerifier()
print(json.dumps([before, blas()]))
"""


def test_loading_the_command_head_and_verifier_leaves_blas_one_thread() -> None:
    # A fresh interpreter whose BLAS starts with two threads, whatever this machine has.
    env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env
    )
    before, after = json.loads(done.stdout)
    assert before == [2]
    assert after == [1]
