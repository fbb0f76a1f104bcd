"""Hold Python's cyclic garbage collector while a panel or a practice's month is built.

A 500-patient panel allocates some 100,000 objects, a 2,000-patient close about a million
(stored rows, the engine's facts and results, the page's rows or the lines to store) that live
until the response is sent or the lines are stored, and are then freed by reference counting:
none of them is cyclic garbage. With the collector running, those survivors trigger full
collections over the whole heap again and again, each 50-200 ms on a busy 2-core host
(bench/panel_dashboard.py: half the page's time; a close of 10,000 patients took 1.5x as long).
Pausing it for the block removes that cost; anything cyclic is collected after, as usual.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector inside the block; resume it after if this block paused it.

    Nesting and concurrent requests are safe: only the block that found the collector running
    turns it back on, so it is never left off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
