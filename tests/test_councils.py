"""Finding a council by what a person types (etl.councils): URN, name, a unique beginning,
the names it was known by; unknown and ambiguous text names the closest councils."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl import reference
from etl.councils import CouncilDirectory, CouncilNotFound, name_key

DIRECTORY = CouncilDirectory.from_reference()


def urn_of(text: str) -> str:
    return DIRECTORY.resolve(text).council.urn


def refused(text: str) -> CouncilNotFound:
    with pytest.raises(CouncilNotFound) as caught:
        DIRECTORY.resolve(text)
    return caught.value


@pytest.mark.parametrize("text", ["80487", "Barnet", "barnet", "  BARNET ", "Barne"])
def test_a_urn_the_name_any_case_or_a_unique_beginning(text):
    found = DIRECTORY.resolve(text)
    assert found.council.urn == "80487"
    assert found.how == {"80487": "urn", "Barne": "beginning of 'Barnet'"}.get(text, "name")


@pytest.mark.parametrize(
    "text, urn",
    [
        ("Bristol", "80441"),
        ("City of Bristol", "80441"),
        ("bristol, city of", "80441"),  # "City of" ignored
        ("Windsor & Maidenhead", "80546"),
        ("windsor and maidenhead", "80546"),  # & is and
        ("St Helens", "80560"),
        ("Saint Helens", "80560"),
        ("st.helens", "80560"),  # punctuation, Saint
        ("Stockton on Tees", "80563"),
        ("Hull", "80477"),
        ("County Durham", "80465"),  # also known as
        ("BCP", "2532287"),
        ("Herefordshire, County of", "80474"),
    ],
)
def test_punctuation_case_and_the_reference_other_names(text, urn):
    assert urn_of(text) == urn


def test_a_predecessor_by_its_name_the_reference_keeps_or_the_successor_it_became():
    poole = DIRECTORY.resolve("Poole").council
    assert poole.urn == "137316" and poole.abolished and "2532287" in poole.successors
    assert DIRECTORY.resolve("Northamptonshire").council.urn == "121939", "its own history"
    bournemouth = DIRECTORY.resolve("Bournemouth")  # no URN of its own: its successor
    assert bournemouth.council.urn == "2532287" and bournemouth.how == "predecessor 'Bournemouth'"
    split = refused("Dorset County")  # succeeded by two councils: say which
    assert split.ambiguous and {c.urn for c in split.closest} == {"2532283", "2532287"}
    assert "say which" in str(split) and "Dorset (2532283)" in str(split)


def test_an_ambiguous_beginning_lists_every_council_it_begins():
    error = refused("Barn")
    assert error.ambiguous and [c.name for c in error.closest] == ["Barnet", "Barnsley"]
    assert str(error) == "'Barn' begins the names of 2 councils: Barnet (80487), Barnsley (80426); say which"
    many = refused("S")  # every council in S: ten named, then how many more
    assert len(many.closest) > 10 and str(many).count(" (") == 10
    assert str(many).endswith(f"and {len(many.closest) - 10} more; say which")


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("Barnt", "Barnet"),
        ("Birmingam", "Birmingham"),
        ("Leicster", "Leicester"),
        ("Hammersmth", "Hammersmith and Fulham"),
        ("Fulham", "Hammersmith and Fulham"),
        ("Nottinghm", "Nottingham"),
    ],
)
def test_an_unknown_name_names_the_closest_council_first(typed, meant):
    error = refused(typed)
    assert not error.ambiguous and error.closest[0].name == meant
    assert str(error).startswith(f"no council named {typed!r}; closest: {meant} (")


def test_an_unknown_urn_and_text_that_is_no_name_are_errors_too():
    assert str(refused("99999")).startswith("no council with URN 99999")
    assert refused("").reason.startswith("give a council")
    assert "no council's name" in refused("&&").reason and refused("--").closest == ()
    assert "at most 100 characters" in str(refused("x" * 500))
    assert refused("Brum").closest == () and str(refused("Brum")) == "no council named 'Brum'"


def test_the_warehouse_adds_the_sites_names_and_councils_the_reference_lacks(wh):
    from tests.support.warehouse_fixtures import load_sample

    load_sample(wh)  # Buckinghamshire listed as "Bath & North East Somerset, Council of"; King's Lynn unknown
    with_site = CouncilDirectory.from_reference(wh)
    lynn = with_site.resolve("kings lynn % test")
    assert lynn.council.urn == "80999" and lynn.council.name == "King's Lynn % Test?"
    assert with_site.resolve("80999").how == "urn"
    assert str(refused("80999")).startswith("no council with URN 80999"), "the reference alone lacks it"
    assert with_site.resolve("Buckinghamshire").council.urn == "80442"


def test_search_puts_the_council_named_first_then_the_close_ones():
    assert [f.council.name for f in DIRECTORY.search("Barnet")][0] == "Barnet"
    assert [f.council.name for f in DIRECTORY.search("Barn")] == ["Barnet", "Barnsley"]
    assert [f.council.name for f in DIRECTORY.search("Barnt")] == ["Barnet", "Brent"], "closer than an error's"
    assert [f.council.name for f in DIRECTORY.search("Tyneside")][:2] == ["North Tyneside", "South Tyneside"]
    assert DIRECTORY.search("zzzzqqq") == []


@settings(max_examples=60, deadline=500)
@given(
    council=st.sampled_from([c for c in reference.councils()]),
    case=st.sampled_from([str.upper, str.lower, str.title, str.casefold]),
    spaces=st.sampled_from([" ", "  ", " \t "]),
)
def test_every_reference_name_resolves_to_its_council_however_written(council, case, spaces):
    typed = spaces + spaces.join(case(council.name).split()) + spaces
    assert urn_of(typed) == council.urn
    assert name_key(typed) == name_key(council.name)


def test_a_runs_councils_by_name_as_the_dag_param_gives_them(warehouse_url):
    from etl import pipeline
    from etl.config import Settings

    settings = Settings.from_env({"OFSTED_WAREHOUSE_URL": warehouse_url})
    assert pipeline.council_urns(settings, ["Barnet", "bcp", "2999999"]) == ["80487", "2532287", "2999999"]
    with pytest.raises(CouncilNotFound, match=r"no council named 'Barnt'; closest: Barnet \(80487\)"):
        pipeline.council_urns(settings, ["Barnet", "Barnt"])  # the DAG fails at once, no retries
