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
