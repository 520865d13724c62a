"""The per-process token and config cache: entries expire on the clock, the size is bounded."""

from __future__ import annotations

from tests.support.clock import ManualClock
from webhook.cache import TtlCache


class Loader:
    """Counts loads and returns the value it is set to."""

    def __init__(self, value: str | None = "v1") -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> str | None:
        """The current value, counting the call."""
        self.calls += 1
        return self.value


def test_an_entry_is_served_until_its_ttl_runs_out_then_loaded_again() -> None:
    clock = ManualClock()
    cache: TtlCache[str, str] = TtlCache(ttl=5, clock=clock)
    load = Loader()

    assert cache.get_or_load("k", load) == "v1"
    load.value = "v2"
    clock.advance(4.5)
    assert cache.get_or_load("k", load) == "v1"
    assert load.calls == 1
    clock.advance(0.5)  # exactly the TTL: the entry has run out
    assert cache.get_or_load("k", load) == "v2"
    assert load.calls == 2


def test_nothing_found_is_not_cached() -> None:
    cache: TtlCache[str, str] = TtlCache(ttl=5, clock=ManualClock())
    load = Loader(None)

    assert cache.get_or_load("k", load) is None
    load.value = "now there"
    assert cache.get_or_load("k", load) == "now there"


def test_a_ttl_of_zero_turns_caching_off() -> None:
    cache: TtlCache[str, str] = TtlCache(ttl=0, clock=ManualClock())
    load = Loader()

    cache.get_or_load("k", load)
    cache.get_or_load("k", load)
    assert load.calls == 2


def test_the_least_recently_used_entry_goes_first_when_full() -> None:
    cache: TtlCache[str, str] = TtlCache(ttl=5, max_entries=2, clock=ManualClock())
    loads = {key: Loader(key) for key in "abc"}

    cache.get_or_load("a", loads["a"])
    cache.get_or_load("b", loads["b"])
    cache.get_or_load("a", loads["a"])  # a is used again: b is now the oldest
    cache.get_or_load("c", loads["c"])
    cache.get_or_load("a", loads["a"])
    cache.get_or_load("b", loads["b"])

    assert (loads["a"].calls, loads["b"].calls, loads["c"].calls) == (1, 2, 1)


def test_clear_forgets_everything() -> None:
    cache: TtlCache[str, str] = TtlCache(ttl=5, clock=ManualClock())
    load = Loader()

    cache.get_or_load("k", load)
    cache.clear()
    cache.get_or_load("k", load)
    assert load.calls == 2


def test_a_value_put_is_got_until_its_ttl_runs_out() -> None:
    clock = ManualClock()
    cache: TtlCache[str, bool] = TtlCache(ttl=5, clock=clock)

    assert cache.get("k") is None
    cache.put("k", True)
    clock.advance(4.5)
    assert cache.get("k") is True
    clock.advance(0.5)
    assert cache.get("k") is None
