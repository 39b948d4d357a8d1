"""Deal owners on the command line: `vectoros whoami`, `deals add/update/list --owner`,
`forecast --owner` and `--by owner`, `backtest --owner`, and owners in `import`.

"Me" is set with VECTOROS_USER__EMAIL. The plain tests run on SQLite and Postgres; the
ones on the 18-month history demo (forecast with the history model, backtest) on SQLite.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from harness import Cli, all_deals, ok, one_line, user_error
from sqlmodel import select

from vectoros_tui.identity import os_identity
from vectoros_tui.store.store import open_store
from vectoros_tui.store.tables import ForecastRun

ME = "me@example.com"
QUICK = ("--simulations", 2000, "--seed", 3)
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
OWNER_ROW_KEYS = {
    "userId",
    "email",
    "name",
    "deals",
    "pipeline",
    "worst_case",
    "likely_case",
    "best_case",
    "mean_forecast",
}
BAND_KEYS = {"worst_case", "likely_case", "best_case", "mean_forecast"}


@pytest.fixture(autouse=True)
def me(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("VECTOROS_USER__EMAIL", "Me@Example.com")
    return ME


def add(cli: Cli, *args: object, workspace: str = "Pipe", title: str = "Deal") -> dict[str, Any]:
    soon = (date.today() + timedelta(days=12)).isoformat()
    base = ["--title", title, "--value", 1000, "--stage", "proposal", "--close-date", soon]
    return cli("deals", "add", "-w", workspace, *base, *args, "--json").json()


def members(cli: Cli, workspace: str = "Pipe") -> dict[str, dict[str, Any]]:
    found = cli("workspace", "members", workspace, "--json").json()["members"]
    return {m["email"]: m for m in found}


def whoami(cli: Cli) -> dict[str, Any]:
    return cli("whoami", "--json").json()


def owner_ids(cli: Cli, *args: object) -> dict[str, str | None]:
    return {d["title"]: d["ownerId"] for d in all_deals(cli, *args)}


def write_team(tmp_path: Path) -> Path:
    """Four reps (one named by email) with open deals closing soon, closed deals, and one
    open deal nobody owns."""
    soon = date.today() + timedelta(days=10)
    rows = ["Deal ID,Title,Amount,Stage,Probability,Close Date,Owner"]
    plan = {"Ann Rep": 5, "Bob Rep": 4, "Cy Rep": 3, "di@example.com": 2}
    for owner, count in plan.items():
        for i in range(count):
            value = 10_000 + 1_000 * i
            day = (soon + timedelta(days=i)).isoformat()
            rows.append(f"{owner[:2]}{i},{owner} deal {i},{value},proposal,50,{day},{owner}")
    rows.append(f"an1,Ann won,7000,Closed Won,100,{date.today().isoformat()},Ann Rep")
    rows.append(f"cy9,Cy lost,9000,Closed Lost,0,{date.today().isoformat()},Cy Rep")
    rows.append(f"no1,Nobody's deal,5000,proposal,50,{soon.isoformat()},")
    path = tmp_path / "team.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def load_team(cli: Cli, tmp_path: Path) -> None:
    ok(cli("workspace", "create", "Pipe"))
    ok(cli("import", write_team(tmp_path), "-w", "Pipe", "--json"))


def open_count(cli: Cli, owner: str) -> int:
    args = ("deals", "list", "-w", "Pipe", "--outcome", "open", "--owner", owner, "--json")
    return cli(*args).json()["total"]


# --- whoami --------------------------------------------------------------------------


def test_whoami_from_the_environment_and_its_memberships(cli: Cli) -> None:
    found = whoami(cli)
    assert found["email"] == ME  # lower-cased
    assert "VECTOROS_USER__EMAIL" in found["source"]
    assert found["workspaces"] == []
    ok(cli("workspace", "create", "Pipe"))
    assert whoami(cli)["workspaces"] == [{"name": "Pipe", "role": "owner"}]  # I made it
    ok(cli("workspace", "create", "Other", "--owner", "boss@example.com"))
    assert [w["name"] for w in whoami(cli)["workspaces"]] == ["Pipe"]
    ok(cli("workspace", "create", "Another"))
    assert [w["name"] for w in whoami(cli)["workspaces"]] == ["Another", "Pipe"]
    text = ok(cli("whoami")).out
    assert ME in text and "Pipe (owner)" in one_line(text)


def test_whoami_from_the_config_file(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VECTOROS_USER__EMAIL")
    config = tmp_path / "config.toml"
    config.write_text('[user]\nemail = "Cee@Example.org"\nname = "Cee Config"\n')
    monkeypatch.setenv("VECTOROS_CONFIG", str(config))
    found = whoami(cli)
    assert (found["email"], found["name"]) == ("cee@example.org", "Cee Config")
    assert str(config) in found["source"]
    ok(cli("workspace", "create", "Pipe"))
    deal = add(cli)
    assert members(cli)["cee@example.org"]["role"] == "owner"
    assert members(cli)["cee@example.org"]["name"] == "Cee Config"
    assert owner_ids(cli, "-w", "Pipe", "--owner", "me") == {"Deal": deal["ownerId"]}


def test_whoami_without_settings_is_the_os_user(cli: Cli, monkeypatch) -> None:
    monkeypatch.delenv("VECTOROS_USER__EMAIL")
    found = whoami(cli)
    expected = os_identity()
    assert (found["email"], found["name"]) == (expected.email, expected.name)
    assert "@" in found["email"] and "." in found["email"].split("@")[1]
    assert found["source"] == expected.source
    # Stable from run to run: the same "me" owns what I made before.
    assert whoami(cli)["email"] == found["email"]


def test_an_invalid_configured_email_is_a_user_error(cli: Cli, monkeypatch) -> None:
    monkeypatch.setenv("VECTOROS_USER__EMAIL", "not-an-address")
    assert "VECTOROS_USER__EMAIL" in user_error(cli("whoami")).err


# --- deals add / update / list -------------------------------------------------------


def test_deals_add_makes_the_deal_mine_and_the_first_member_owns_the_workspace(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(cli("workspace", "create", "Pipe"))
    mine = add(cli, title="Mine")
    assert mine["ownerId"]
    assert members(cli) == {ME: {"email": ME, "name": None, "role": "owner"}}
    again = add(cli, title="Mine too")
    assert again["ownerId"] == mine["ownerId"]  # the same member, not a new one
    monkeypatch.setenv("VECTOROS_USER__EMAIL", "colleague@example.com")
    # Not a member of a workspace I own: refused, naming who can add them; nothing written.
    refused = cli("deals", "add", "-w", "Pipe", "--title", "Theirs")
    assert refused.code == 1
    assert "colleague@example.com" in refused.err and f"({ME})" in refused.err
    assert len(all_deals(cli, "-w", "Pipe")) == 2
    monkeypatch.setenv("VECTOROS_USER__EMAIL", ME)
    ok(cli("workspace", "add-member", "colleague@example.com", "-w", "Pipe"))
    monkeypatch.setenv("VECTOROS_USER__EMAIL", "colleague@example.com")
    theirs = add(cli, title="Theirs")
    assert theirs["ownerId"] not in (None, mine["ownerId"])
    assert {e: m["role"] for e, m in members(cli).items()} == {
        ME: "owner",
        "colleague@example.com": "member",
    }
    assert owner_ids(cli, "-w", "Pipe", "--owner", "me") == {"Theirs": theirs["ownerId"]}


def test_deals_add_for_another_member(cli: Cli, tmp_path: Path) -> None:
    load_team(cli, tmp_path)
    ann_id = owner_ids(cli, "-w", "Pipe")["Ann Rep deal 0"]
    for ref in ("Ann Rep", "ann rep", "ann.rep@imported.invalid", "ann"):
        assert add(cli, "--owner", ref, title=f"For {ref}")["ownerId"] == ann_id
    di = add(cli, "--owner", "DI@example.com", title="For Di")
    assert di["ownerId"] == owner_ids(cli, "-w", "Pipe")["di@example.com deal 0"]
    assert add(cli, "--owner", "me", title="Mine")["ownerId"] not in (None, ann_id)
    assert members(cli)[ME]["role"] == "owner"  # the import into a new workspace made me


def test_deals_add_with_an_unknown_or_outside_owner_writes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    load_team(cli, tmp_path)
    ok(cli("workspace", "create", "Other"))
    ok(cli("workspace", "add-member", "out@example.com", "-w", "Other"))  # not of Pipe
    before = len(all_deals(cli, "-w", "Pipe"))
    for ref in ("Zelda", "out@example.com", "outsider@example.com", "rep"):  # "rep": several
        result = user_error(
            cli("deals", "add", "-w", "Pipe", "--title", "X", "--owner", ref, "--json")
        )
        assert "owner" in result.err
    message = one_line(
        user_error(cli("deals", "add", "-w", "Pipe", "--title", "X", "--owner", "Zelda")).err
    )
    for shown in ("Ann Rep <ann.rep@imported.invalid>", "Bob Rep", "di@example.com"):
        assert shown in message
    assert len(all_deals(cli, "-w", "Pipe")) == before
    assert "out@example.com" not in members(cli)


def test_deals_update_reassigns(cli: Cli, tmp_path: Path) -> None:
    load_team(cli, tmp_path)
    ids = {d["title"]: d for d in all_deals(cli, "-w", "Pipe")}
    deal = ids["Ann Rep deal 0"]
    bob_id = ids["Bob Rep deal 0"]["ownerId"]
    moved = cli("deals", "update", deal["id"], "--owner", "Bob Rep", "--json").json()
    assert (moved["ownerId"], moved["version"]) == (bob_id, deal["version"] + 1)
    assert moved["title"] == deal["title"] and moved["value"] == deal["value"]
    # Owner and a field together: one new version.
    both = ok(cli("deals", "update", deal["id"], "--owner", "di@example.com", "--value", 5))
    assert "Updated" in both.out
    stored = cli("deals", "show", deal["id"], "--json").json()
    stored = stored.get("deal", stored)
    assert stored["ownerId"] == ids["di@example.com deal 0"]["ownerId"]
    assert (stored["value"], stored["version"]) == (5, deal["version"] + 2)
    # me: the import made me the workspace's owner; now I own the deal too.
    mine = cli("deals", "update", deal["id"], "--owner", "me", "--json").json()
    assert members(cli)[ME]["role"] == "owner"
    assert owner_ids(cli, "-w", "Pipe", "--owner", "me") == {deal["title"]: mine["ownerId"]}


def test_deals_update_refuses_what_is_not_one_member(cli: Cli, tmp_path: Path) -> None:
    load_team(cli, tmp_path)
    ok(cli("workspace", "create", "Other"))
    ok(cli("workspace", "add-member", "outsider@example.com", "-w", "Other"))
    deal = next(d for d in all_deals(cli, "-w", "Pipe") if d["title"] == "Bob Rep deal 1")
    for ref in ("nobody", "outsider@example.com", "all", "rep"):
        result = user_error(cli("deals", "update", deal["id"], "--owner", ref, "--value", 1))
        assert "owner" in result.err.casefold()
    assert "members:" in user_error(cli("deals", "update", deal["id"], "--owner", "nobody")).err
    after = next(d for d in all_deals(cli, "-w", "Pipe") if d["id"] == deal["id"])
    assert (after["ownerId"], after["value"], after["version"]) == (
        deal["ownerId"],
        deal["value"],
        deal["version"],
    )


def test_deals_list_by_owner(cli: Cli, tmp_path: Path) -> None:
    load_team(cli, tmp_path)
    add(cli, title="Mine")
    everyone = all_deals(cli, "-w", "Pipe")
    assert len(everyone) == 18
    ann = all_deals(cli, "-w", "Pipe", "--owner", "Ann Rep")
    assert sorted(d["title"] for d in ann) == [*(f"Ann Rep deal {i}" for i in range(5)), "Ann won"]
    assert len({d["ownerId"] for d in ann}) == 1
    assert [d["title"] for d in all_deals(cli, "-w", "Pipe", "--owner", "me")] == ["Mine"]
    assert len(all_deals(cli, "-w", "Pipe", "--owner", "di@example.com")) == 2
    for everybody in ("all", "everyone", "*"):
        assert len(all_deals(cli, "-w", "Pipe", "--owner", everybody)) == 18
    assert open_count(cli, "Cy Rep") == 3
    text = ok(cli("deals", "list", "-w", "Pipe", "--owner", "Bob Rep")).out
    assert "owned by Bob Rep" in one_line(text)
    assert "Ann Rep deal" not in text
    message = one_line(user_error(cli("deals", "list", "-w", "Pipe", "--owner", "Zed")).err)
    assert "Zed" in message and "Cy Rep" in message


# --- forecast --owner, forecast --by owner -------------------------------------------


def kept_runs(database_url: str) -> int:
    store = open_store(database_url)
    try:
        with store.db.read() as session:
            return len(session.exec(select(ForecastRun)).all())
    finally:
        store.close()


def test_forecast_of_my_deals(cli: Cli, tmp_path: Path, database_url: str) -> None:
    load_team(cli, tmp_path)
    mine = {add(cli, title=f"Mine {i}")["id"] for i in range(3)}
    ok(cli("deals", "add", "-w", "Pipe", "--title", "My win", "--stage", "won", "--value", 9))
    everyone = open_count(cli, "all")
    assert open_count(cli, "me") == 3 < everyone
    for model in ("rep", "auto"):
        result = cli("forecast", "-w", "Pipe", "--owner", "me", "--model", model, "--json", *QUICK)
        found = result.json()
        assert found["deals_analyzed"] == 3
        assert {d["deal_id"] for d in found["forecasted_deals"]} == mine
        assert found["total_pipeline_value"] == 3000
    assert kept_runs(database_url) == 0  # one rep's forecast is not the workspace's
    team = cli("forecast", "-w", "Pipe", "--json", *QUICK).json()
    assert team["deals_analyzed"] == everyone
    assert kept_runs(database_url) == 1  # the workspace's is
    ann = cli("forecast", "-w", "Pipe", "--owner", "Ann Rep", "--json", *QUICK).json()
    assert ann["deals_analyzed"] == 5
    assert ann["total_pipeline_value"] == sum(10_000 + 1_000 * i for i in range(5))
    message = one_line(user_error(cli("forecast", "-w", "Pipe", "--owner", "Zed")).err)
    assert "Ann Rep" in message


def test_forecast_by_owner(cli: Cli, tmp_path: Path) -> None:
    load_team(cli, tmp_path)
    found = cli("forecast", "-w", "Pipe", "--by", "owner", "--model", "rep", "--json", *QUICK)
    result = found.json()
    assert result["model"] == "rep"
    assert {"model", "owners", "team", "sum_of_owner_p5"} <= set(result)
    rows = result["owners"]
    assert all(set(r) == OWNER_ROW_KEYS for r in rows)
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"Ann Rep", "Bob Rep", "Cy Rep", "di@example.com", "unassigned"}
    for ref in ("Ann Rep", "Bob Rep", "Cy Rep", "di@example.com"):
        assert by_name[ref]["deals"] == open_count(cli, ref)
        assert by_name[ref]["userId"]
    assert by_name["di@example.com"]["email"] == "di@example.com"
    assert by_name["Ann Rep"]["email"] == "ann.rep@imported.invalid"
    assert by_name["Ann Rep"]["pipeline"] == sum(10_000 + 1_000 * i for i in range(5))
    nobody = by_name["unassigned"]
    assert (nobody["userId"], nobody["email"], nobody["deals"]) == (None, None, 1)
    assert rows[-1] is not None and rows[-1]["userId"] is None  # nobody's deals last
    assert sum(r["deals"] for r in rows) == open_count(cli, "all")
    for r in rows:
        assert 0 <= r["worst_case"] <= r["likely_case"] <= r["best_case"] <= r["pipeline"]

    team = result["team"]
    assert set(team) == BAND_KEYS
    # The team's band adds the reps' totals run by run: its mean is their means' sum...
    assert team["mean_forecast"] == pytest.approx(sum(r["mean_forecast"] for r in rows), abs=0.05)
    # ...but with five groups of independent deals its P5 is well above their P5s' sum.
    assert result["sum_of_owner_p5"] == pytest.approx(sum(r["worst_case"] for r in rows))
    assert team["worst_case"] != result["sum_of_owner_p5"]
    assert team["worst_case"] > result["sum_of_owner_p5"]
    assert team["best_case"] < sum(r["best_case"] for r in rows)

    # Same seed, same answer; a goal adds the team's chance of reaching it.
    args = ("forecast", "-w", "Pipe", "--by", "owner", "--model", "rep", "--json", *QUICK)
    goal = team["likely_case"]
    with_goal = cli(*args, "--goal", goal).json()
    assert with_goal["owners"] == rows
    assert with_goal["team"]["goal"] == goal
    assert 0.3 < with_goal["team"]["probability_of_hitting_goal"] < 0.7
    assert set(with_goal["team"]) == BAND_KEYS | {"goal", "probability_of_hitting_goal"}
    text = ok(cli("forecast", "-w", "Pipe", "--by", "owner", "--model", "rep", *QUICK)).out
    assert "Ann Rep" in text and "team" in text


def test_forecast_by_owner_with_auto_on_a_short_history_uses_rep(cli: Cli, tmp_path) -> None:
    load_team(cli, tmp_path)
    result = cli("forecast", "-w", "Pipe", "--by", "owner", "--json", *QUICK).json()
    assert result["model"] == "rep"
    assert result["model_note"]
    user_error(cli("forecast", "-w", "Pipe", "--by", "owner", "--model", "history"))


@pytest.mark.parametrize(
    "extra",
    [
        ("--as-of", datetime.now(UTC).date().isoformat()),
        ("--period", "this-quarter"),
        ("--owner", "Ann Rep"),
        ("--owner", "me"),
    ],
)
def test_forecast_by_owner_is_todays_team_forecast_only(
    cli: Cli, tmp_path: Path, extra: tuple[str, str]
) -> None:
    load_team(cli, tmp_path)
    add(cli)  # so that "me" is a member
    result = user_error(cli("forecast", "-w", "Pipe", "--by", "owner", *extra))
    assert "--by owner" in result.err


# --- import --------------------------------------------------------------------------


def test_import_reports_new_members(cli: Cli, tmp_path: Path) -> None:
    ok(cli("workspace", "create", "Pipe"))
    add(cli)
    path = write_team(tmp_path)
    expected = [
        "Ann Rep <ann.rep@imported.invalid>",
        "Bob Rep <bob.rep@imported.invalid>",
        "Cy Rep <cy.rep@imported.invalid>",
        "di@example.com",
    ]
    dry = cli("import", path, "-w", "Pipe", "--dry-run", "--json").json()
    assert dry["newMembers"] == expected
    assert set(members(cli)) == {ME}
    done = cli("import", path, "-w", "Pipe", "--json").json()
    assert done["newMembers"] == expected
    assert set(members(cli)) == {
        ME,
        "ann.rep@imported.invalid",
        "bob.rep@imported.invalid",
        "cy.rep@imported.invalid",
        "di@example.com",
    }
    again = cli("import", path, "-w", "Pipe", "--json").json()
    assert again["newMembers"] == []
    assert again["unchanged"] == 17
    text = ok(cli("import", path, "-w", "Pipe", "--dry-run")).out
    assert "new member" not in text


def test_the_first_import_into_an_empty_database_lists_its_members(
    cli: Cli, tmp_path: Path
) -> None:
    path = write_team(tmp_path)
    dry = cli("import", path, "-w", "Fresh", "--dry-run", "--json").json()
    assert len(dry["newMembers"]) == 4
    text = one_line(ok(cli("import", path, "-w", "Fresh")).out)
    assert "Added 4 new members" in text and "Cy Rep <cy.rep@imported.invalid>" in text
    # The four reps, and me: whoever imports into a new workspace owns it.
    roles = {e: m["role"] for e, m in members(cli, "Fresh").items()}
    assert len(roles) == 5 and roles.pop(ME) == "owner"
    assert set(roles.values()) == {"member"}


def test_an_invalid_owner_cell_fails_the_import(cli: Cli, tmp_path: Path) -> None:
    ok(cli("workspace", "create", "Pipe"))
    path = tmp_path / "bad.csv"
    path.write_text("Title,Amount,Sales Agent\nA,10,Ann Rep\nB,20,!!!\n")
    result = user_error(cli("import", path, "-w", "Pipe"))
    assert "Sales Agent" in result.err and "!!!" in result.err
    assert all_deals(cli, "-w", "Pipe") == []
    assert list(members(cli)) == [ME]  # its creator; none of the file's reps


# --- on the 18-month history demo (SQLite) -------------------------------------------


def demo(cli: Cli) -> dict[str, dict[str, Any]]:
    ok(cli("demo", "--deals", 600, "--seed", 5))
    return members(cli, "Demo")


@SQLITE_ONLY
def test_demo_reps_own_its_deals_and_forecast_by_owner(cli: Cli) -> None:
    reps = demo(cli)
    assert len(reps) == 8
    assert all(e.endswith("@demo.example.com") and m["name"] for e, m in reps.items())
    deals = all_deals(cli, "-w", "Demo")
    assert len(deals) == 600 and all(d["ownerId"] for d in deals)
    result = cli("forecast", "-w", "Demo", "--by", "owner", "--json", *QUICK).json()
    assert result["model"] == "history"
    rows = result["owners"]
    assert {r["email"] for r in rows} <= set(reps)
    assert all(r["userId"] for r in rows)  # nobody's deals: none
    open_deals = [d for d in deals if d["outcome"] is None]
    assert sum(r["deals"] for r in rows) == len(open_deals)
    for r in rows:
        assert r["deals"] == sum(1 for d in open_deals if d["ownerId"] == r["userId"])
    assert [r["likely_case"] for r in rows] == sorted(
        (r["likely_case"] for r in rows), reverse=True
    )
    team = result["team"]
    assert team["mean_forecast"] == pytest.approx(sum(r["mean_forecast"] for r in rows), abs=0.05)
    assert len(rows) >= 3
    assert team["worst_case"] != result["sum_of_owner_p5"]

    # One rep's own forecast: their open deals only.
    top = rows[0]
    mine = cli("forecast", "-w", "Demo", "--owner", top["name"], "--json", *QUICK).json()
    assert mine["model"] == "history"
    assert mine["deals_analyzed"] == top["deals"]
    assert {d["deal_id"] for d in mine["forecasted_deals"]} == {
        d["id"] for d in open_deals if d["ownerId"] == top["userId"]
    }
    # The rep model counts the open deals closing within the window: the team's such
    # deals that are this rep's.
    rep_model = ("forecast", "-w", "Demo", "--model", "rep", "--json", *QUICK)
    theirs = {d["id"] for d in open_deals if d["ownerId"] == top["userId"]}
    team_rep = {d["deal_id"] for d in cli(*rep_model).json()["forecasted_deals"]}
    rep_mine = cli(*rep_model, "--owner", top["email"]).json()
    assert {d["deal_id"] for d in rep_mine["forecasted_deals"]} == team_rep & theirs
    assert rep_mine["deals_analyzed"] == len(team_rep & theirs) > 0


@SQLITE_ONLY
def test_backtest_of_one_rep(cli: Cli) -> None:
    reps = demo(cli)
    args = ("backtest", "-w", "Demo", "--model", "rep", "--simulations", 200, "--json")
    everyone = cli(*args).json()["cutoffs"]
    totals = {r["cutoff"]: r["actual"] for r in everyone}
    assert sum(totals.values()) > 0
    by_rep: dict[str, list[dict[str, Any]]] = {}
    for email, member in reps.items():
        by_rep[email] = cli(*args, "--owner", member["name"]).json()["cutoffs"]
    for email, cutoffs in by_rep.items():
        assert [r["cutoff"] for r in cutoffs] == list(totals), email
        for mine, all_of_them in zip(cutoffs, everyone, strict=True):
            assert mine["actual"] <= all_of_them["actual"] + 0.005
            assert mine["open_deals"] <= all_of_them["open_deals"]
            assert mine["pipeline_value"] <= all_of_them["pipeline_value"] + 0.005
    # Every deal has an owner, so the reps' actuals and open deals add up to the team's.
    for index, row in enumerate(everyone):
        assert sum(c[index]["actual"] for c in by_rep.values()) == pytest.approx(row["actual"])
        assert sum(c[index]["open_deals"] for c in by_rep.values()) == row["open_deals"]
    assert sum(1 for c in by_rep.values() if sum(r["actual"] for r in c) > 0) >= 2


@SQLITE_ONLY
def test_backtest_of_an_unknown_owner_names_the_members(cli: Cli) -> None:
    reps = demo(cli)
    message = one_line(user_error(cli("backtest", "-w", "Demo", "--owner", "Nobody")).err)
    assert "Nobody" in message
    for email, member in reps.items():
        assert email in message and member["name"] in message


@SQLITE_ONLY
def test_score_insights_and_export_of_one_owner(cli: Cli) -> None:
    ok(cli("demo", "--deals", 300, "--seed", 8, "--name", "Rep"))
    rep = ok(cli("workspace", "members", "-w", "Rep", "--json")).json()["members"][0]["email"]
    owned = ok(cli("deals", "list", "-w", "Rep", "--owner", rep, "--limit", 10_000, "--json"))
    mine = {d["id"] for d in owned.json()["deals"]}
    assert mine

    everyone = ok(cli("score", "-w", "Rep", "--json")).json()
    scored = ok(cli("score", "-w", "Rep", "--owner", rep, "--json")).json()
    assert {d["deal_id"] for d in scored["scored_deals"]} == {
        d["deal_id"] for d in everyone["scored_deals"] if d["deal_id"] in mine
    }
    metrics = scored["workspace_metrics"]
    assert metrics["total_deals"] == len(mine)
    assert sum(metrics["health_distribution"].values()) == len(scored["scored_deals"])

    about_mine = ok(cli("insights", "-w", "Rep", "--owner", rep, "--json")).json()["insights"]
    all_insights = ok(cli("insights", "-w", "Rep", "--json")).json()["insights"]
    assert about_mine and {i["dealId"] for i in about_mine} <= mine
    assert len(about_mine) == sum(1 for i in all_insights if i.get("dealId") in mine)

    exported = ok(cli("export", "-w", "Rep", "--format", "json", "--owner", rep)).json()
    assert {d["id"] for d in exported["deals"]} == mine
    refused = user_error(cli("export", "-w", "Rep", "--owner", "nobody-here"))
    assert "no member named" in one_line(refused.err)


def test_rep_goals_are_kept_listed_and_weighed_in_the_team_forecast(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # wide enough for every column of the table
    ok(cli("workspace", "create", "Goals"))
    rows = "\n".join(
        f"D{i},{stage},{value},60,2026-12-20,{owner}"
        for i, (stage, value, owner) in enumerate(
            [
                ("proposal", 50_000, "Ana Ruiz"),
                ("negotiation", 80_000, "Ana Ruiz"),
                ("proposal", 40_000, "Ben Ode"),
                ("qualified", 20_000, "Ben Ode"),
            ]
        )
    )
    path = tmp_path / "team.csv"
    path.write_text("Deal Name,Stage,Amount,Probability,Close Date,Owner\n" + rows + "\n")
    ok(cli("import", path, "-w", "Goals"))
    ok(cli("goal", "set", "60k", "--owner", "Ana Ruiz", "-w", "Goals"))
    ok(cli("goal", "set", "$1", "--owner", "ben", "-w", "Goals"))
    listed = ok(cli("goal", "-w", "Goals", "--json")).json()["memberGoals"]
    assert sorted((g["name"], g["window"], g["amount"]) for g in listed) == [
        ("Ana Ruiz", "30d", 60_000.0),
        ("Ben Ode", "30d", 1.0),
    ]
    result = ok(
        cli("forecast", "-w", "Goals", "--by", "owner", "--model", "rep", "--seed", 4, "--json")
    ).json()
    by_name = {r["name"]: r for r in result["owners"]}
    assert by_name["Ana Ruiz"]["goal"] == 60_000
    assert 0 < by_name["Ana Ruiz"]["probability_of_hitting_goal"] < 1
    # A goal of $1 is hit whenever Ben wins anything: the chance his P5..P95 suggests.
    assert by_name["Ben Ode"]["probability_of_hitting_goal"] > 0.5
    assert "P(goal)" in ok(cli("forecast", "-w", "Goals", "--by", "owner", "--model", "rep")).out

    ok(cli("goal", "clear", "--owner", "ben", "-w", "Goals"))
    assert [g["name"] for g in ok(cli("goal", "-w", "Goals", "--json")).json()["memberGoals"]] == [
        "Ana Ruiz"
    ]
    refused = user_error(cli("goal", "set", "1M", "--owner", "Zed", "-w", "Goals"))
    assert "no member named" in one_line(refused.err)
    refused = user_error(
        cli("goal", "set", "1M", "--owner", "ana", "--period", "2026-Q1", "-w", "Goals")
    )
    assert "--window" in one_line(refused.err)
