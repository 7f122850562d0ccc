"""A supporter's page must not pass as the organisation's own (#15 review): neither its title
nor the fundraiser's name may be only the nonprofit's name or the campaign's title, however it
is spelt (look-alike letters, accents, zero-width characters, dots and spaces, case)."""

from __future__ import annotations

import string

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.fundraising.safety import impersonates, skeleton
from service.db import Database
from tests.campaigns.fundraising.helpers import p2p_campaign, start

NAMES = ["Water Aid", "Harbor Trust", "Stichting Voedselbank Amsterdam", "Open Kitchen 2026"]

# Letters of other scripts that read as a Latin one (escaped: the source must not hide them).
LOOKALIKES = {
    "a": ["\u0430", "\u03b1"],  # Cyrillic a, Greek alpha
    "c": ["\u0441"],  # Cyrillic es
    "e": ["\u0435"],  # Cyrillic ie
    "i": ["\u0456"],  # Cyrillic Byelorussian-Ukrainian i
    "o": ["\u043e", "\u03bf", "0"],  # Cyrillic o, Greek omicron, zero
    "p": ["\u0440", "\u03c1"],  # Cyrillic er, Greek rho
    "x": ["\u0445"],  # Cyrillic ha
    "y": ["\u0443"],  # Cyrillic u
    "A": ["\u0410", "\u0391"],  # Cyrillic A, Greek Alpha
    "B": ["\u0412", "\u0392"],
    "E": ["\u0415", "\u0395"],
    "H": ["\u041d", "\u0397"],  # Cyrillic En, Greek Eta
    "K": ["\u041a", "\u039a"],
    "M": ["\u041c", "\u039c"],
    "O": ["\u041e", "\u039f"],
    "T": ["\u0422", "\u03a4"],
    "l": ["1", "I", "\u04cf"],  # one, capital i, Cyrillic palochka
}
# What a reader does not see, or reads past: nothing, spaces, dots, dashes, zero-width
# characters, a soft hyphen.
SEPARATORS = [
    "",
    "",
    "",
    " ",
    "  ",
    ".",
    "-",
    "_",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\u00ad",
    "\ufeff",
]


def _spellings(char: str) -> list[str]:
    found = [char, char.upper(), char.lower(), *LOOKALIKES.get(char, []), *LOOKALIKES.get(char.lower(), [])]
    if char.isascii() and char.isalpha():
        found.append(chr(ord(char) + 0xFEE0))  # full-width
        found.append(char + "\u0301")  # with an acute accent
        found.append(char + "\u0308")  # with a diaeresis
    return found


@st.composite
def disguised(draw: st.DrawFn, name: str) -> str:
    """The name spelt so that a reader still reads the name."""
    parts = [draw(st.sampled_from(_spellings(char))) + draw(st.sampled_from(SEPARATORS)) for char in name]
    return (
        draw(st.sampled_from(["", " ", "  "])) + "".join(parts) + draw(st.sampled_from(["", "!", " ", "."]))
    )


class TestSkeleton:
    @pytest.mark.parametrize(
        "text",
        [
            "W.a.t.e.r A.i.d",
            "W a t e r   A i d",
            "WATER\u200bAID",
            "W\u0430ter \u0410id",  # Cyrillic a and A
            "\uff37\uff41\uff54\uff45\uff52 \uff21\uff49\uff44",  # full-width
            "\U0001d416\U0001d41a\U0001d42d\U0001d41e\U0001d42b \U0001d400\U0001d422\U0001d41d",  # bold
            "W\u00e0t\u00e9r \u00c4id",  # accents
            "Water A1d",
            "water_aid!!",
        ],
    )
    def test_a_disguised_name_reads_as_the_name(self, text: str) -> None:
        assert skeleton(text) == skeleton("Water Aid")
        assert impersonates(text, organisation_names=["Water Aid", "Winter Coats"])

    def test_upper_case_greek_look_alikes_read_as_latin(self) -> None:
        assert impersonates("\u0397\u0391RBOR TRUST", organisation_names=["Harbor Trust"])  # Eta, Alpha

    @given(data=st.data(), name=st.sampled_from(NAMES))
    @settings(max_examples=300, deadline=None)
    def test_any_disguise_of_the_name_alone_is_refused(self, data: st.DataObject, name: str) -> None:
        text = data.draw(disguised(name))

        assert impersonates(text, organisation_names=[name]), repr(text)

    @given(
        who=st.text(alphabet=string.ascii_letters, min_size=1, max_size=12),
        joiner=st.sampled_from(["runs for", "bakes for", "for", "x", "\u2665"]),
        name=st.sampled_from(NAMES),
    )
    @settings(max_examples=200, deadline=None)
    def test_saying_what_you_do_for_the_organisation_is_fine(self, who: str, joiner: str, name: str) -> None:
        assert not impersonates(f"{who} {joiner} {name}", organisation_names=[name, "Winter Coats"])

    def test_another_script_is_compared_as_written(self) -> None:
        assert impersonates("\u6c34\u63f4\u52a9", organisation_names=["\u6c34 \u63f4\u52a9"])
        assert not impersonates("\u6c34\u63f4", organisation_names=["\u6c34\u63f4\u52a9"])
        assert not impersonates("...", organisation_names=["!!!"])  # nothing to read is nobody's name


class TestStartingAPage:
    async def test_a_name_or_title_that_passes_as_the_organisation_is_refused(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await p2p_campaign(client, database, title="Winter Coats")
        org = campaign["_org"]
        nonprofit = (await client.get("/api/v1/nonprofits/me", headers=org.headers)).json()
        org_name: str = nonprofit["name"]
        dotted = ".".join(org_name)
        cyrillic = org_name.replace("a", "\u0430").replace("e", "\u0435").replace("o", "\u043e")
        assert cyrillic != org_name

        by_name = await start(client, campaign["slug"], name=org_name.upper(), email="n1@example.org")
        by_dotted_name = await start(client, campaign["slug"], name=dotted, email="n2@example.org")
        by_campaign_name = await start(
            client, campaign["slug"], name="W\u0456nter\u200bCoats", email="n3@ex.org"
        )
        by_title = await start(client, campaign["slug"], title=cyrillic, email="t1@example.org")
        fine = await start(
            client, campaign["slug"], name="Sam", title=f"Sam runs for {org_name}", email="ok@example.org"
        )

        for refused, field in (
            (by_name, "name"),
            (by_dotted_name, "name"),
            (by_campaign_name, "name"),
            (by_title, "title"),
        ):
            assert refused.status_code == 422, refused.text
            assert field in refused.json()["fields"]
        assert fine.status_code == 202, fine.text
