from __future__ import annotations

import asyncio

import pytest

from service.web.microcache import CachedPage, MicroCache


def page(text: str, status_code: int = 200) -> CachedPage:
    return CachedPage(body=text.encode(), status_code=status_code, headers=())


class TestMicroCache:
    async def test_serves_the_rendered_page_until_it_expires(self) -> None:
        cache = MicroCache(ttl_s=0.2)
        renders: list[int] = []

        async def render() -> CachedPage:
            renders.append(1)
            return page(f"render {len(renders)}")

        first = await cache.get_or_render("k", render)
        second = await cache.get_or_render("k", render)
        await asyncio.sleep(0.25)
        third = await cache.get_or_render("k", render)

        assert (first.body, second.body, third.body) == (b"render 1", b"render 1", b"render 2")

    async def test_concurrent_misses_render_once(self) -> None:
        cache = MicroCache(ttl_s=5)
        renders: list[int] = []

        async def render() -> CachedPage:
            renders.append(1)
            await asyncio.sleep(0.05)
            return page("once")

        pages = await asyncio.gather(*(cache.get_or_render("k", render) for _ in range(50)))

        assert len(renders) == 1
        assert {p.body for p in pages} == {b"once"}

    async def test_errors_and_non_200_pages_are_not_kept(self) -> None:
        cache = MicroCache(ttl_s=5)
        calls: list[int] = []

        async def failing() -> CachedPage:
            calls.append(1)
            raise LookupError("gone")

        async def not_found() -> CachedPage:
            calls.append(1)
            return page("missing", 404)

        with pytest.raises(LookupError):
            await cache.get_or_render("a", failing)
        with pytest.raises(LookupError):
            await cache.get_or_render("a", failing)
        await cache.get_or_render("b", not_found)
        await cache.get_or_render("b", not_found)

        assert len(calls) == 4

    async def test_zero_ttl_never_caches(self) -> None:
        cache = MicroCache(ttl_s=0)
        renders: list[int] = []

        async def render() -> CachedPage:
            renders.append(1)
            return page("x")

        await cache.get_or_render("k", render)
        await cache.get_or_render("k", render)

        assert len(renders) == 2

    async def test_bounded_size_evicts_the_oldest(self) -> None:
        cache = MicroCache(ttl_s=60, max_entries=2)
        renders: list[str] = []

        def renderer(key: str):  # type: ignore[no-untyped-def]
            async def render() -> CachedPage:
                renders.append(key)
                return page(key)

            return render

        for key in ("a", "b", "c", "a"):
            await cache.get_or_render(key, renderer(key))

        assert renders == ["a", "b", "c", "a"]

    async def test_a_page_asked_for_late_in_its_life_is_rendered_again_in_the_background(self) -> None:
        clock = Clock()
        cache = MicroCache(ttl_s=2, clock=clock)
        renders: list[int] = []
        release, rendered = asyncio.Event(), asyncio.Event()

        async def render() -> CachedPage:
            renders.append(1)
            if len(renders) > 1:
                await release.wait()
                rendered.set()
            return page(f"render {len(renders)}")

        await cache.get_or_render("k", render)
        clock.now = 1.6
        during = await asyncio.gather(*(cache.get_or_render("k", render) for _ in range(10)))
        release.set()
        await asyncio.wait_for(rendered.wait(), timeout=10)
        after = await cache.get_or_render("k", render)

        assert {p.body for p in during} == {b"render 1"}
        assert after.body == b"render 2"
        assert len(renders) == 2

    async def test_a_copy_is_never_served_past_its_ttl_while_a_re_render_is_slow(self) -> None:
        clock = Clock()
        cache = MicroCache(ttl_s=2, clock=clock)
        renders: list[int] = []
        release = asyncio.Event()

        async def render() -> CachedPage:
            renders.append(1)
            if len(renders) > 1:
                await release.wait()
            return page(f"render {len(renders)}")

        await cache.get_or_render("k", render)
        clock.now = 1.6
        early = await cache.get_or_render("k", render)
        clock.now = 2.1
        late = asyncio.create_task(cache.get_or_render("k", render))
        await asyncio.sleep(0)
        release.set()

        assert early.body == b"render 1"
        assert (await late).body == b"render 2"
        assert len(renders) == 2

    async def test_a_failed_background_render_keeps_the_current_copy_until_it_expires(self) -> None:
        clock = Clock()
        cache = MicroCache(ttl_s=2, clock=clock)
        renders: list[int] = []
        failed = asyncio.Event()

        async def render() -> CachedPage:
            renders.append(1)
            if len(renders) == 2:
                failed.set()
                raise LookupError("database gone")
            return page(f"render {len(renders)}")

        await cache.get_or_render("k", render)
        clock.now = 1.6
        served = await cache.get_or_render("k", render)
        await asyncio.wait_for(failed.wait(), timeout=10)
        still = await cache.get_or_render("k", render)
        clock.now = 2.1
        expired = await cache.get_or_render("k", render)

        assert served.body == still.body == b"render 1"
        assert expired.body == b"render 3"
        assert len(renders) == 3


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestPeek:
    """What the page fast path may serve without rendering (service/web/fast_path.py)."""

    async def test_a_fresh_page_is_peeked_an_absent_or_expired_one_is_not(self) -> None:
        now = [100.0]
        cache = MicroCache(ttl_s=10, clock=lambda: now[0])

        async def render() -> CachedPage:
            return page("fresh")

        assert cache.peek("k") is None
        await cache.get_or_render("k", render)
        peeked = cache.peek("k")
        now[0] += 10
        expired = cache.peek("k")

        assert peeked is not None and peeked.body == b"fresh"
        assert expired is None

    async def test_a_page_due_for_its_re_render_is_left_to_the_normal_path_until_one_runs(self) -> None:
        now = [100.0]
        cache = MicroCache(ttl_s=10, clock=lambda: now[0])
        release = asyncio.Event()
        renders: list[int] = []

        async def render() -> CachedPage:
            renders.append(1)
            await release.wait()
            return page(f"render {len(renders)}")

        release.set()
        await cache.get_or_render("k", render)
        release.clear()
        now[0] += 8  # past REFRESH_AFTER, before expiry

        due = cache.peek("k")
        served = await cache.get_or_render("k", render)  # the normal path starts the re-render
        while_rendering = cache.peek("k")
        release.set()
        for _ in range(5):
            await asyncio.sleep(0)  # let the background re-render run to its end
        refreshed = cache.peek("k")
        await cache.aclose()

        assert due is None
        assert served.body == b"render 1", "the current copy, while the re-render runs"
        assert while_rendering is not None and while_rendering.body == b"render 1"
        assert refreshed is not None and refreshed.body == b"render 2"
        assert len(renders) == 2
