"""One BLAS thread for numpy: the recognizer's products are small and want none of the rest.

Why: the recognizer multiplies small matrices (the phrase verifier's 40 log-mel bands by a
segment's frames, the command head's 577 inputs). OpenBLAS splits such products over every
core, and its idle threads then spin: in two benchmark workers on two cores, the same
held-out-voice streams took twice the CPU (RTF 0.071 against 0.035) and were answered 34 ms
later at the median (261 against 227 ms) than with one thread (BENCHMARKS.md, eighteenth
session). On a Raspberry Pi that spin takes cores from the speech
synthesizer and the audio threads. onnxruntime already runs on one thread of its own.

`threadpoolctl` changes the limit in a process where numpy is already loaded (an environment
variable would only act before that).
"""

from __future__ import annotations

from functools import cache

from threadpoolctl import threadpool_limits


@cache
def one_blas_thread() -> None:
    """Limit numpy's BLAS to one thread in this process (once; later calls do nothing)."""
    threadpool_limits(limits=1, user_api="blas")
