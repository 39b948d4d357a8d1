"""`vectoros similar`, `vectoros reindex` and doctor's "similar" report, driven in-process
through ``run(argv)`` against SQLite and Postgres.

Everything is real: the built-in embedding model and the Qdrant Edge index in the test's
own data folder (``isolated_home`` gives every test a fresh VECTOROS_HOME). Datasets stay
small (a 30-deal demo, or a handful of deals) because the model embeds ~50 texts/s here.
Exit codes: 0 success, 2 bad input (and unknown ids), 1 anything else.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from harness import Cli, all_deals, failure, ok, one_line, user_error

from vectoros_tui.locations import current_locations
from vectoros_tui.similar.index import EdgeIndex, IndexPoint, RunNote

pytestmark = pytest.mark.usefixtures("model_in_home")
# The index's own files (damaged, locked, interrupted, rebuilt), the model's folder and
# argument checks do not touch the database beyond reading a few deals: SQLite only. The
# searches, filters, counts and catching up with changes run on both databases.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DIMENSION = 384
RESULT_KEYS = {
    "deal_id",
    "title",
    "company",
    "value",
    "stage",
    "probability",
    "outcome",
    "similarity_score",
    "close_date",
}
EVIDENCE_KEYS = {
    "closed_deals",
    "won",
    "lost",
    "win_rate",
    "median_sales_cycle_days",
    "top_lost_reasons",
    "summary",
}
STAGES = {"prospect", "qualified", "proposal", "negotiation", "closed"}
SECURITY_TITLES = (
    "SOC 2 security audit and penetration testing",
    "SOC 2 compliance security audit for the cloud platform",
    "Annual SOC 2 security audit and vulnerability assessment",
)
FORKLIFT_TITLES = (
    "Forklift fleet for the new warehouse",
    "Electric forklift fleet lease for warehouse operations",
    "Warehouse forklift fleet replacement",
)
COMPANIES = ("Northwind", "Globex", "Initech", "Hooli", "Vandelay", "Stark")


def load_demo(cli: Cli, deals: int = 30, seed: int = 7, name: str = "Demo") -> None:
    ok(cli("demo", "--deals", deals, "--history-months", 0, "--seed", seed, "--name", name))


def add_deal(cli: Cli, title: str, company: str, workspace: str) -> dict[str, Any]:
    return cli(
        "deals",
        "add",
        "--workspace",
        workspace,
        "--title",
        title,
        "--company",
        company,
        "--value",
        25_000,
        "--probability",
        40,
        "--stage",
        "proposal",
        "--json",
    ).json()


def workspace_id(cli: Cli, name: str) -> str:
    workspaces = cli("workspace", "list", "--json").json()["workspaces"]
    return next(w["id"] for w in workspaces if w["name"] == name)


def similar_json(cli: Cli, *args: object) -> dict[str, Any]:
    return cli("similar", *args, "--json").json()


def ids_of(found: dict[str, Any]) -> list[str]:
    return [d["deal_id"] for d in found["similar_deals"]]


def scores_of(found: dict[str, Any]) -> list[float]:
    return [d["similarity_score"] for d in found["similar_deals"]]


def doctor_similar(cli: Cli) -> dict[str, Any]:
    result = ok(cli("doctor", "--json"))
    report = json.loads(result.out)
    assert report["ok"] is True
    return report["similar"]


@contextmanager
def open_edge_index() -> Iterator[EdgeIndex]:
    """The index the CLI uses (in this test's data folder), held open by the test."""
    index = EdgeIndex(current_locations().vector_index_dir, DIMENSION)
    try:
        yield index
    finally:
        index.close()


def stray_point(workspace: str) -> IndexPoint:
    """A point no deal of the database has, filed under ``workspace`` (an id)."""
    vector = np.random.default_rng(3).standard_normal(DIMENSION).astype(np.float32)
    payload = {
        "workspace_id": workspace,
        "stage": "proposal",
        "outcome": "open",
        "value": 1.0,
        "probability": 10,
        "close_date": None,
        "title": "A deal that was never in the database",
        "company": None,
        "text_hash": "0000000000000000",
    }
    return IndexPoint(uuid.uuid4(), vector / np.linalg.norm(vector), payload)


# --- search output ---------------------------------------------------------------------


def test_text_search_json_has_the_seed_shape(cli: Cli) -> None:
    load_demo(cli)
    # Another workspace whose deals match the query far better, indexed too: a search in
    # Demo must still only return Demo's deals.
    ok(cli("workspace", "create", "Other"))
    other_ids = {
        add_deal(cli, title, company, "Other")["id"]
        for title, company in zip(SECURITY_TITLES, COMPANIES, strict=False)
    }
    ok(cli("similar", "-w", "Other", "--text", "SOC 2 security audit", "--json"))
    demo = {d["id"]: d for d in all_deals(cli, "-w", "Demo")}
    assert len(demo) == 30

    found = similar_json(cli, "-w", "Demo", "--text", "SOC 2 security audit", "--limit", 5)

    assert set(found) == {"success", "count", "similar_deals", "evidence"}
    assert found["success"] is True
    assert found["count"] == len(found["similar_deals"]) == 5
    scores = scores_of(found)
    assert scores == sorted(scores, reverse=True), "results must be best first"
    assert all(-1.0 <= s <= 1.0 for s in scores)
    assert len(set(ids_of(found))) == 5
    for item in found["similar_deals"]:
        assert set(item) == RESULT_KEYS
        assert item["deal_id"] in demo, "a result from outside the workspace"
        assert item["deal_id"] not in other_ids
        deal = demo[item["deal_id"]]
        # Shown as the deal is in the database.
        assert item["title"] == deal["title"]
        assert item["company"] == deal["company"]
        assert item["value"] == deal["value"]
        assert item["stage"] == deal["stage"] and item["stage"] in STAGES
        assert item["probability"] == deal["probability"]
        assert item["outcome"] == deal["outcome"] and item["outcome"] in (None, "won", "lost")
        assert item["close_date"] == deal["closeDate"]
        if item["close_date"] is not None:
            date.fromisoformat(item["close_date"])
    evidence = found["evidence"]
    assert set(evidence) == EVIDENCE_KEYS
    assert evidence["closed_deals"] == evidence["won"] + evidence["lost"] > 0
    assert evidence["win_rate"] == pytest.approx(evidence["won"] / evidence["closed_deals"])
    assert isinstance(evidence["summary"], str) and evidence["summary"]

    # A bigger limit returns every deal of the workspace once.
    everything = similar_json(cli, "-w", "Demo", "--text", "SOC 2 security audit", "--limit", 100)
    assert everything["count"] == 30
    assert set(ids_of(everything)) == set(demo)
    assert ids_of(everything)[:5] == ids_of(found)


def test_text_search_human_output(cli: Cli) -> None:
    ok(cli("workspace", "create", "Ranking"))
    deal = add_deal(cli, SECURITY_TITLES[0], "Northwind", "Ranking")
    result = ok(cli("similar", "--text", "security audit"))
    assert "Deals like “security audit” in Ranking" in one_line(result.out)
    # The description as plain words, the way it is first typed.
    assert ok(cli("similar", "security", "audit")).out == result.out
    assert deal["id"][:8] in result.out
    assert "Evidence:" in result.out
    assert "No closed deals among the similar ones yet" in one_line(result.out)


# --- ranking ---------------------------------------------------------------------------


def add_themed_deals(cli: Cli, workspace: str = "Ranking") -> tuple[list[str], list[str]]:
    ok(cli("workspace", "create", workspace))
    security, forklift = [], []
    for i, (sec, fork) in enumerate(zip(SECURITY_TITLES, FORKLIFT_TITLES, strict=True)):
        # Companies alternate between the themes so only the titles tell them apart.
        security.append(add_deal(cli, sec, COMPANIES[2 * i], workspace)["id"])
        forklift.append(add_deal(cli, fork, COMPANIES[2 * i + 1], workspace)["id"])
    return security, forklift


def test_deal_search_ranks_the_same_theme_first(cli: Cli) -> None:
    security, forklift = add_themed_deals(cli)
    target = security[0]

    found = similar_json(cli, "--deal", target, "--limit", 100)
    ranked = ids_of(found)
    assert target not in ranked, "a deal is not similar to itself"
    assert found["count"] == 5
    assert set(ranked[:2]) == set(security[1:]), f"security deals first: {found}"
    assert set(ranked[2:]) == set(forklift)
    assert scores_of(found) == sorted(scores_of(found), reverse=True)
    # Clearly apart, not a coin toss.
    assert min(scores_of(found)[:2]) > max(scores_of(found)[2:]) + 0.3

    # The same from the forklift side.
    assert set(ids_of(similar_json(cli, "--deal", forklift[2], "--limit", 2))) == set(forklift[:2])

    # An 8-character prefix finds the same deal and gives the same answer.
    by_prefix = similar_json(cli, "--deal", target[:8], "--limit", 100)
    assert ids_of(by_prefix) == ranked
    assert scores_of(by_prefix) == pytest.approx(scores_of(found))

    # Human output names the deal and lists the other two security deals.
    human = ok(cli("similar", "--deal", target[:8], "--limit", 2))
    assert f"Deals like {SECURITY_TITLES[0]} in Ranking" in one_line(human.out)
    for other in security[1:]:
        assert other[:8] in human.out
    assert not any(f[:8] in human.out for f in forklift)


def test_deal_of_another_workspace_is_not_found(cli: Cli) -> None:
    security, _ = add_themed_deals(cli)
    ok(cli("workspace", "create", "Elsewhere"))
    add_deal(cli, "Office chairs", "Acme", "Elsewhere")
    for ref in (security[0], security[0][:8]):
        result = user_error(cli("similar", "-w", "Elsewhere", "--deal", ref))
        assert ref in result.err


# --- stats -----------------------------------------------------------------------------


def test_stats_json_counts_the_workspace_points(cli: Cli) -> None:
    add_themed_deals(cli, "Demo")
    ok(cli("workspace", "create", "Other"))
    add_deal(cli, "Office chairs", "Acme", "Other")
    ok(cli("similar", "-w", "Demo", "--text", "renewal", "--json"))
    ok(cli("reindex", "-w", "Other", "--json"))

    stats = similar_json(cli, "-w", "Demo", "--stats")
    assert stats["success"] is True
    assert stats["stats"]["total_deals"] == 6
    assert stats["stats"]["vector_size"] == DIMENSION
    assert stats["stats"]["distance_metric"] == "COSINE"
    assert stats["stats"]["model"]
    assert stats["stats"]["index"] == str(current_locations().vector_index_dir)
    assert similar_json(cli, "-w", "Other", "--stats")["stats"]["total_deals"] == 1

    # A new deal is counted once a search has caught up.
    add_deal(cli, "Warehouse racking", "Acme", "Demo")
    ok(cli("similar", "-w", "Demo", "--text", "racking", "--json"))
    assert similar_json(cli, "-w", "Demo", "--stats")["stats"]["total_deals"] == 7

    human = ok(cli("similar", "-w", "Demo", "--stats"))
    assert "total_deals" in human.out and "7" in human.out and "COSINE" in human.out


# --- filters ---------------------------------------------------------------------------


def test_outcome_stage_and_threshold_filters(cli: Cli) -> None:
    load_demo(cli)
    deals = all_deals(cli)
    won = {d["id"] for d in deals if d["outcome"] == "won"}
    lost = {d["id"] for d in deals if d["outcome"] == "lost"}
    proposal = {d["id"] for d in deals if d["stage"] == "proposal"}
    assert won and lost and proposal, "the demo must have every kind of deal"
    query = ("--text", "multi-year enterprise agreement", "--limit", 100)

    found = similar_json(cli, *query, "--outcome", "won")
    assert all(d["outcome"] == "won" and d["stage"] == "closed" for d in found["similar_deals"])
    assert set(ids_of(found)) == won, "every won deal, and only those"

    found = similar_json(cli, *query, "--stage", "proposal")
    assert all(d["stage"] == "proposal" for d in found["similar_deals"])
    assert set(ids_of(found)) == proposal

    # Filters combine with AND: a closed deal is never open.
    nothing = similar_json(cli, *query, "--stage", "closed", "--outcome", "open")
    assert nothing["success"] is True
    assert nothing["count"] == 0 and nothing["similar_deals"] == []

    # Nothing unrelated is 0.99 alike: an empty answer, not an error.
    found = similar_json(cli, "--text", "purple giraffes juggling on the moon", "--threshold", 0.99)
    assert found["success"] is True
    assert found["count"] == 0 and found["similar_deals"] == []

    # A threshold between two scores keeps exactly the deals above it.
    scores = scores_of(similar_json(cli, *query))
    assert len(scores) == 30
    cut = (scores[4] + scores[5]) / 2
    assert scores[4] > cut > scores[5], "need distinct scores around the cut"
    kept = similar_json(cli, *query, "--threshold", round(cut, 6))
    assert kept["count"] == 5
    assert all(s >= cut for s in scores_of(kept))


# --- bad input -------------------------------------------------------------------------

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "give exactly one of a DESCRIPTION (or --text TEXT), --deal ID or --stats"),
        (("--deal", "DEAL", "--text", "audit"), "give exactly one of"),
        (("security", "audit", "--text", "audit"), "give the description once"),
        (("security", "--deal", "DEAL"), "give exactly one of"),
        (("--text", "  "), "--text"),
        (("--text", "audit", "--limit", 0), "--limit"),
        (("--text", "audit", "--limit", 101), "--limit"),
        (("--text", "audit", "--threshold", 2), "--threshold"),
        (("--text", "audit", "--outcome", "maybe"), "maybe"),
        (("--text", "audit", "--stage", "won"), "--stage"),
        (("--deal", UNKNOWN_ID), UNKNOWN_ID),
        (("--deal", "0000beef"), "0000beef"),
        (("--deal", "xyz"), "'xyz' is not a deal id"),
        (("--stats", "--text", "audit"), "--stats cannot be combined"),
        (("--stats", "--deal", "DEAL"), "--stats cannot be combined"),
    ],
    ids=[
        "no-option",
        "deal-and-text",
        "words-and-text",
        "words-and-deal",
        "blank-text",
        "limit-0",
        "limit-101",
        "threshold-2",
        "outcome-maybe",
        "stage-won",
        "unknown-full-id",
        "unknown-prefix",
        "malformed-id",
        "stats-and-text",
        "stats-and-deal",
    ],
)
def test_similar_bad_input(cli: Cli, args: tuple[object, ...], says: str) -> None:
    ok(cli("workspace", "create", "Demo"))
    if "DEAL" in args:
        deal_id = add_deal(cli, "Forklift fleet", "Acme", "Demo")["id"]
        args = tuple(deal_id if a == "DEAL" else a for a in args)
    argv = list(args)
    result = user_error(cli("similar", *argv))
    assert says in one_line(result.err), result.err
    assert not result.out.strip(), "nothing on stdout for a refused command"


@SQLITE_ONLY
def test_blank_text_says_it_is_empty(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    result = user_error(cli("similar", "--text", " \t "))
    assert "empty" in result.err


@SQLITE_ONLY
def test_reindex_bad_input(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    result = user_error(cli("reindex", "--all", "--workspace", "Demo"))
    assert "--all and --workspace cannot be combined" in one_line(result.err)
    result = user_error(cli("reindex", "--workspace", "Nope"))
    assert "Nope" in result.err


# --- the index catches up on its own ---------------------------------------------------


def test_search_catches_up_with_updates_and_deletes(cli: Cli) -> None:
    load_demo(cli)
    deals = all_deals(cli)
    new_title = "Submarine sonar retrofit"
    query = ("--text", "submarine sonar retrofit", "--limit", 100)

    before = similar_json(cli, *query)
    doomed_query = ("--text", "security add-on", "--limit", 100)
    doomed = ids_of(similar_json(cli, *doomed_query))[0]
    target, noted = [d["id"] for d in deals if d["id"] not in (ids_of(before)[0], doomed)][:2]

    ok(cli("deals", "update", target, "--title", new_title))
    ok(cli("deals", "delete", doomed[:8]))
    ok(cli("activity", "add", noted, "--type", "note", "-d", "Asked for a discount"))
    # Doctor sees what changed without loading the model: two texts changed, one deal gone.
    assert doctor_similar(cli)["workspaces"]["Demo"] == {
        "deals": 29,
        "indexed": 30,
        "missing": 0,
        "stale": 2,
        "orphans": 1,
        "in_step": False,
    }

    after = similar_json(cli, *query)
    assert ids_of(after)[0] == target, "the re-embedded deal must rank first"
    assert after["similar_deals"][0]["title"] == new_title
    assert (
        after["similar_deals"][0]["similarity_score"]
        > before["similar_deals"][0]["similarity_score"]
    )
    assert doomed not in ids_of(after)
    assert after["count"] == 29

    # The search left the index in step: the deleted deal's point is gone, nothing to do.
    assert similar_json(cli, "--stats")["stats"]["total_deals"] == 29
    drift = doctor_similar(cli)["workspaces"]["Demo"]
    assert drift == {
        "deals": 29,
        "indexed": 29,
        "missing": 0,
        "stale": 0,
        "orphans": 0,
        "in_step": True,
    }


# --- reindex and doctor ----------------------------------------------------------------


def test_reindex_repairs_drift_that_doctor_reports(cli: Cli) -> None:
    add_themed_deals(cli, "Demo")
    first = cli("reindex", "--json").json()
    assert first == {
        "workspaces": [
            {
                "workspace": "Demo",
                "embedded": 6,
                "deleted": 0,
                "indexed": 6,
                "already_indexed": 0,
                "resumed": False,
            }
        ],
        "foreign_points_deleted": 0,
    }
    assert doctor_similar(cli)["in_step"] is True

    ws = workspace_id(cli, "Demo")
    removed = [uuid.UUID(d["id"]) for d in all_deals(cli)[:2]]
    with open_edge_index() as index:
        index.delete(removed)
        index.upsert([stray_point(ws)])  # an orphan: Demo's id, no such deal
        index.upsert([stray_point(str(uuid.uuid4()))])  # a workspace that does not exist

    doctor = ok(cli("doctor", "--json"))  # drift is no reason to fail the doctor
    report = json.loads(doctor.out)["similar"]
    assert report["workspaces"]["Demo"] == {
        "deals": 6,
        "indexed": 5,
        "missing": 2,
        "stale": 0,
        "orphans": 1,
        "in_step": False,
    }
    assert report["foreign_points"] == 1
    assert report["in_step"] is False
    human = ok(cli("doctor"))
    assert "vectoros reindex --all" in one_line(human.out)

    repaired = cli("reindex", "--json").json()
    assert repaired == {
        "workspaces": [
            {
                "workspace": "Demo",
                "embedded": 2,
                "deleted": 1,
                "indexed": 6,
                "already_indexed": 4,
                "resumed": False,
            }
        ],
        "foreign_points_deleted": 1,
    }
    after = doctor_similar(cli)
    assert after["in_step"] is True
    assert after["foreign_points"] == 0
    assert after["workspaces"]["Demo"]["in_step"] is True
    assert after["workspaces"]["Demo"]["indexed"] == 6

    # Nothing left to do.
    again = cli("reindex", "--json").json()
    assert again["workspaces"] == [
        {
            "workspace": "Demo",
            "embedded": 0,
            "deleted": 0,
            "indexed": 6,
            "already_indexed": 6,
            "resumed": False,
        }
    ]


def test_reindex_human_output_and_all_workspaces(cli: Cli) -> None:
    security, _ = add_themed_deals(cli, "Ranking")
    ok(cli("workspace", "create", "Other"))
    add_deal(cli, "Office chairs", "Acme", "Other")
    result = ok(cli("reindex", "--all"))
    text = one_line(result.out)
    assert "Ranking: 6 deals indexed (6 embedded, 0 deleted)" in text
    assert "Other: 1 deals indexed (1 embedded, 0 deleted)" in text
    report = doctor_similar(cli)
    assert report["in_step"] is True
    assert {name: d["indexed"] for name, d in report["workspaces"].items()} == {
        "Ranking": 6,
        "Other": 1,
    }
    # Two workspaces and no --workspace: reindex means all of them.
    summary = cli("reindex", "--json").json()
    assert {w["workspace"] for w in summary["workspaces"]} == {"Ranking", "Other"}
    assert all(w["embedded"] == 0 for w in summary["workspaces"])

    # Points of a deleted workspace are removed by the next reindex.
    ok(cli("workspace", "delete", "Other", "--yes"))
    assert doctor_similar(cli)["foreign_points"] == 1
    summary = cli("reindex", "--json").json()
    assert summary["foreign_points_deleted"] == 1
    assert [w["workspace"] for w in summary["workspaces"]] == ["Ranking"]
    assert doctor_similar(cli)["in_step"] is True
    assert security  # the Ranking deals are still searchable
    assert similar_json(cli, "--deal", security[0])["count"] == 5


def test_reindex_all_after_the_last_workspace_is_deleted(cli: Cli) -> None:
    ok(cli("workspace", "create", "Only"))
    add_deal(cli, "Forklift fleet", "Acme", "Only")
    ok(cli("reindex", "--json"))
    ok(cli("workspace", "delete", "Only", "--yes"))
    assert doctor_similar(cli)["foreign_points"] == 1

    summary = cli("reindex", "--all", "--json").json()
    assert summary == {"workspaces": [], "foreign_points_deleted": 1}
    assert doctor_similar(cli)["in_step"] is True


@SQLITE_ONLY
def test_reindex_rebuild_starts_from_empty(cli: Cli) -> None:
    add_themed_deals(cli, "Demo")
    ok(cli("similar", "--text", "renewal", "--json"))  # indexes all 6
    ws = workspace_id(cli, "Demo")
    with open_edge_index() as index:
        index.upsert([stray_point(ws), stray_point(str(uuid.uuid4()))])
    assert doctor_similar(cli)["workspaces"]["Demo"]["orphans"] == 1

    rebuilt = cli("reindex", "--rebuild", "--json").json()
    # Everything embedded again; the stray points were not deleted one by one, they were
    # never there.
    assert rebuilt == {
        "workspaces": [
            {
                "workspace": "Demo",
                "embedded": 6,
                "deleted": 0,
                "indexed": 6,
                "already_indexed": 0,
                "resumed": False,
            }
        ],
        "foreign_points_deleted": 0,
    }
    report = doctor_similar(cli)
    assert report["in_step"] is True
    assert report["foreign_points"] == 0
    assert report["workspaces"]["Demo"]["indexed"] == 6
    assert similar_json(cli, "--stats")["stats"]["total_deals"] == 6
    with open_edge_index() as index:
        assert index.count() == 6


@SQLITE_ONLY
def test_reindex_mends_an_index_it_cannot_open(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    add_deal(cli, "Forklift fleet", "Acme", "Demo")
    ok(cli("reindex"))
    meta = current_locations().vector_index_dir / "meta.json"
    meta.write_text(json.dumps({"dimension": 999, "distance": "COSINE"}))

    result = failure(cli("similar", "--text", "forklift"))
    assert "vectoros reindex" in one_line(result.err)
    assert json.loads(ok(cli("doctor", "--json")).out)["similar"]["error"]

    mended = ok(cli("reindex", "--json"))
    assert "rebuilding it from the database" in one_line(mended.err)
    assert json.loads(mended.out)["workspaces"][0]["indexed"] == 1
    assert doctor_similar(cli)["in_step"] is True
    assert similar_json(cli, "--text", "forklift")["count"] == 1


@SQLITE_ONLY
def test_reindex_resumes_an_interrupted_run_and_rebuild_starts_over(cli: Cli) -> None:
    add_themed_deals(cli, "Demo")
    ok(cli("reindex"))
    ws = workspace_id(cli, "Demo")
    # As a killed run leaves it: four deals committed, a note of how far it got.
    with open_edge_index() as index:
        index.delete([uuid.UUID(d["id"]) for d in all_deals(cli)[:2]])
        index.note_run(uuid.UUID(ws), RunNote(deals=6, indexed=4))

    resumed = ok(cli("reindex"))
    assert resumed.out.splitlines() == [
        "Demo: resuming an interrupted reindex, 4 of 6 deals already indexed",
        "Demo: 6 deals indexed (2 embedded, 0 deleted)",
    ]
    with open_edge_index() as index:
        assert index.unfinished_run(uuid.UUID(ws)) is None

    with open_edge_index() as index:
        index.note_run(uuid.UUID(ws), RunNote(deals=6, indexed=6))
    item = cli("reindex", "--json").json()["workspaces"][0]
    assert (item["resumed"], item["already_indexed"], item["embedded"]) == (True, 6, 0)

    # --rebuild drops the note with the points: everything again, nothing resumed.
    with open_edge_index() as index:
        index.note_run(uuid.UUID(ws), RunNote(deals=6, indexed=4))
    rebuilt = ok(cli("reindex", "--rebuild"))
    assert "resuming" not in rebuilt.out
    assert "Demo: 6 deals indexed (6 embedded, 0 deleted)" in one_line(rebuilt.out)


@SQLITE_ONLY
@pytest.mark.parametrize("interrupted", [True, False])
def test_reindex_rebuilds_an_index_with_a_damaged_file(cli: Cli, interrupted: bool) -> None:
    ok(cli("workspace", "create", "Demo"))
    add_deal(cli, "Forklift fleet", "Acme", "Demo")
    add_deal(cli, "Payroll software", "Globex", "Demo")
    ok(cli("reindex"))
    folder = current_locations().vector_index_dir
    if interrupted:
        with open_edge_index() as index:
            index.note_run(uuid.UUID(workspace_id(cli, "Demo")), RunNote(deals=2, indexed=2))
    (segment,) = (folder / "shard" / "segments").iterdir()
    (segment / "payload_storage" / "page_0.dat").write_bytes(b"")

    result = failure(cli("similar", "--text", "forklift"))
    assert "is damaged" in one_line(result.err)
    assert "Traceback" not in result.err

    mended = ok(cli("reindex"))
    # Found when opening after an interrupted run, else when first reading the payloads.
    said = "cannot be opened" if interrupted else "cannot be read"
    assert f"The index {said}" in one_line(mended.err)
    assert "rebuilding it from the database" in one_line(mended.err)
    assert "Demo: 2 deals indexed (2 embedded, 0 deleted)" in one_line(mended.out)
    assert similar_json(cli, "--text", "forklift")["count"] == 2


# --- the index in use elsewhere --------------------------------------------------------


@SQLITE_ONLY
def test_locked_index_turns_search_off_not_the_cli(cli: Cli) -> None:
    ok(cli("workspace", "create", "Demo"))
    add_deal(cli, "Forklift fleet", "Acme", "Demo")
    with open_edge_index():
        result = failure(cli("similar", "--text", "x"))
        assert "in use" in one_line(result.err)
        assert not result.out.strip()
        assert "in use" in one_line(failure(cli("reindex")).err)
        assert "in use" in one_line(failure(cli("similar", "--stats")).err)
        # Everything else still works.
        listing = cli("deals", "list", "--json").json()
        assert [d["title"] for d in listing["deals"]] == ["Forklift fleet"]
        doctor = ok(cli("doctor", "--json"))
        assert "in use" in json.loads(doctor.out)["similar"]["error"]
    # Released: search works again.
    assert similar_json(cli, "--text", "forklift")["count"] == 1


# --- the model cannot be loaded --------------------------------------------------------


@SQLITE_ONLY
def test_model_folder_without_a_model(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(cli("workspace", "create", "Demo"))
    add_deal(cli, "Forklift fleet", "Acme", "Demo")
    empty = tmp_path / "no-model-here"
    empty.mkdir()
    monkeypatch.setenv("VECTOROS_SIMILAR__MODEL_PATH", str(empty))

    result = failure(cli("similar", "--text", "x"))
    message = one_line(result.err)
    assert str(empty) in message
    assert "model_path" in message
    assert not result.out.strip()
    # Only similar-deal search is off.
    assert len(cli("deals", "list", "--json").json()["deals"]) == 1


@SQLITE_ONLY
def test_model_folder_that_does_not_exist(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("VECTOROS_SIMILAR__MODEL_PATH", str(missing))
    result = user_error(cli("similar", "--text", "x"))
    message = one_line(result.err)
    assert "config error" in message
    assert "VECTOROS_SIMILAR__MODEL_PATH" in message
    assert str(missing) in message

    # The same in the config file names the key.
    monkeypatch.delenv("VECTOROS_SIMILAR__MODEL_PATH")
    config = tmp_path / "config.toml"
    config.write_text(f'[similar]\nmodel_path = "{missing}"\n', encoding="utf-8")
    monkeypatch.setenv("VECTOROS_CONFIG", str(config))
    result = user_error(cli("similar", "--text", "x"))
    message = one_line(result.err)
    assert "similar.model_path" in message
    assert str(missing) in message
