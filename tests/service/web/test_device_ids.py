"""Device ids (service/web/tokens.py new_device_id) are cut from a pool of random bytes: they
keep secrets.token_urlsafe(24)'s form, never repeat across refills, and a forked process
(goodloop serve --workers N) never hands out its parent's pooled ids."""

from __future__ import annotations

import os
import re

from service.web.tokens import new_device_id

TOKEN_URLSAFE_24 = re.compile(r"^[A-Za-z0-9_-]{32}$")


def test_device_ids_have_token_urlsafe_form_and_never_repeat_across_refills() -> None:
    ids = [new_device_id() for _ in range(2000)]

    assert all(TOKEN_URLSAFE_24.match(device_id) for device_id in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_process_does_not_hand_out_its_parents_pooled_ids() -> None:
    new_device_id()  # the pool now holds ids the parent will hand out next
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, "\n".join(new_device_id() for _ in range(10)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        childs = set(pipe.read().split("\n"))
    parents = {new_device_id() for _ in range(10)}

    assert len(childs) == 10
    assert not childs & parents
