"""freeze_startup_objects: the objects alive at the call leave the
collector's generations, later garbage is still collected."""
import gc
import weakref

from distill3d.utils import freeze_startup_objects


class _Node:

    def __init__(self):
        self.other = None


def _cycle():
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return a


def test_freeze_then_collect_later_garbage():
    before = _cycle()
    frozen = freeze_startup_objects()
    assert frozen == gc.get_freeze_count() > 0
    # the collector's generations no longer hold the frozen objects (the
    # imports' hundreds of thousands), so a full collection skips them
    assert len(gc.get_objects()) < frozen
    assert not any(o is before for o in gc.get_objects())
    # a cycle made afterwards is still found and freed
    probe = weakref.ref(_cycle())
    gc.collect()
    assert probe() is None
    # frozen objects stay alive and usable
    assert before.other.other is before
