"""Create or edit a deal, with inline validation, its activity timeline and conflict handling.

The form validates with the same ``clean_deal`` the store uses, so it never accepts what
the store would reject. Saving sends the version the rep opened; if someone else saved in
between, the rep sees both versions and chooses (reload theirs or overwrite with mine).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from vectoros_tui.engine.stages import STAGES
from vectoros_tui.foreground import FOREGROUND
from vectoros_tui.screens.base import ReportsWorkerErrors
from vectoros_tui.screens.deal_fields import FORM_FIELDS, OUTCOME_CHOICES, TEXT_FIELDS
from vectoros_tui.screens.timeline import ActivityTable, Change
from vectoros_tui.store.errors import ConflictError, ForbiddenError, NotFoundError
from vectoros_tui.store.validation import (
    DEAL_FIELDS,
    NEXT_STEP_FIELDS,
    ValidationError,
    clean_deal,
    parse_calendar_date,
)
from vectoros_tui.store.views import ActivityView, DealView
from vectoros_tui.widgets.formatting import field_text
from vectoros_tui.widgets.next_step import MISSING_MARK, OVERDUE_MARK, due_in_words
from vectoros_tui.widgets.palette import Palette

if TYPE_CHECKING:
    from vectoros_tui.store.activities import ActivityService


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# After a save, the form's re-read waits this long at most for the forecast it set off.
_FORECAST_FIRST_S = 0.5
# The date fields whose hint line says how a typed date was read.
DATE_FIELDS = ("close_date", "next_step_due")


class DealEditorScreen(ReportsWorkerErrors, Screen[None]):
    AUTO_FOCUS = "#field-title"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="editor.save", priority=True),
        Binding("escape", "close", "Close", id="editor.close"),
        Binding("f6", "mark('won')", "Won", id="editor.won"),
        Binding("f7", "mark('lost')", "Lost", id="editor.lost"),
        Binding("f8", "add_activity", "Activity", id="editor.add_activity"),
        Binding("f9", "delete_deal", "Delete", id="editor.delete"),
        Binding("f10", "like_deal", "Similar", id="editor.similar"),
    ]

    def __init__(self, deal_id: str | None) -> None:
        super().__init__()
        self.deal_id = deal_id
        self.deal: DealView | None = None
        self.activities: list[ActivityView] = []
        self.changes: list[Change] = []  # the deal's recorded history, oldest first
        self.tried_to_save = False
        self.saving = False
        # For a closed deal: the (stage, probability) it goes back to when reopened.
        self._reopen_to: tuple[str, int | None] | None = None
        # The error line each field shows: a line is only touched when its text changes,
        # as every update lays out the whole form again (~10 ms per keystroke otherwise).
        self._errors_shown: dict[str, tuple[str, bool]] = {}
        self._members_read: tuple[Any, ...] | None = None

    # --- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("New deal" if self.deal_id is None else "Loading…", id="meta")
            yield Static("", id="health")
            with Vertical(id="form"):
                for name, label in FORM_FIELDS:
                    with Horizontal(classes="form-row"):
                        yield Label(label, classes="form-label")
                        with Vertical(classes="form-input"):
                            yield self._field_widget(name)
                            yield Static("", id=f"error-{name}", classes="field-error")
            yield Static(
                "Timeline (F8 add activity · in the list: e or ⏎ edit, d done, x delete)",
                id="timeline-title",
            )
            yield ActivityTable(id="activities", cursor_type="row")
        yield Footer(compact=True, show_command_palette=False)

    def _field_widget(self, name: str) -> Input | Select[str]:
        if name == "owner":
            # The workspace's members; blank: nobody (or, for a new deal, you).
            snapshot = self.vectoros.snapshot
            members = snapshot.members if snapshot is not None else ()
            return Select(
                [(m.label, str(m.id)) for m in members],
                prompt="you" if self.deal_id is None else "nobody",
                allow_blank=True,
                compact=True,
                id="field-owner",
            )
        if name == "stage":
            return Select(
                [(s, s) for s in STAGES],
                value="prospect",
                allow_blank=False,
                compact=True,
                id="field-stage",
            )
        if name == "outcome":
            return Select(
                OUTCOME_CHOICES, value="open", allow_blank=False, compact=True, id="field-outcome"
            )
        return Input(compact=True, id=f"field-{name}")

    def on_mount(self) -> None:
        table = self.query_one("#activities", ActivityTable)
        table.add_columns("When", "Type", "What")
        if self.deal_id is None:
            self.query_one("#field-probability", Input).placeholder = "default for the stage"
            self.query_one("#field-title", Input).focus()
        else:
            self._load()

    # --- loading --------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="editor-load",
        exit_on_error=False,
        description="editor-load",
    )
    def _load(self) -> None:
        store = self.require_session().store
        assert self.deal_id is not None
        try:
            deal = store.deals.get(uuid.UUID(self.deal_id))
        except NotFoundError as exc:
            self.app.call_from_thread(self._gone, str(exc))
            return
        activities = store.activities.list(deal.id)
        changes = [Change.from_history(event) for event in store.deals.history(deal.id)]
        reopen_to = store.deals.before_closing(deal.id) if deal.outcome else None
        self._members_read = tuple(store.owners.members(deal.workspace_id))
        self.app.call_from_thread(self._fill, deal, activities, reopen_to, changes)

    def _gone(self, message: str) -> None:
        self.notify(message, severity="error")
        self.dismiss()

    def _fill(
        self,
        deal: DealView,
        activities: list[ActivityView],
        reopen_to: tuple[str, int | None] | None = None,
        changes: list[Change] | None = None,
    ) -> None:
        self.deal = deal
        self.deal_id = str(deal.id)
        self._reopen_to = reopen_to
        owner = self.query_one("#field-owner", Select)
        owner.set_options([(m.label, str(m.id)) for m in self._members()])
        owner.prompt = "nobody"
        if deal.owner_id and any(str(m.id) == str(deal.owner_id) for m in self._members()):
            owner.value = str(deal.owner_id)
        else:
            owner.clear()
        for name, value in deal.editable_fields().items():
            if name == "stage":
                self.query_one("#field-stage", Select).value = value
            elif name == "outcome":
                self.query_one("#field-outcome", Select).value = value or "open"
            else:
                self.query_one(f"#field-{name}", Input).value = field_text(value)
        self._show_timeline(activities, self.changes if changes is None else changes)
        self._show_meta()
        self._validate()

    def _show_meta(self) -> None:
        deal = self.deal
        if deal is None:
            return
        # The title is the screen's (its header and the first field): at 80 columns it
        # left no room here for when the deal was last updated.
        text = Text.assemble(
            f"version {deal.version} · created ",
            deal.created_at.strftime("%Y-%m-%d"),
            " · updated ",
            deal.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
        if deal.outcome:
            # The hint to reopen it is on the health line, which a closed deal leaves
            # empty: here it ran past 80 columns.
            closed = f" {deal.closed_at:%Y-%m-%d}" if deal.closed_at else ""
            text.append(f" · {deal.outcome}{closed}")
        text.no_wrap = True
        text.overflow = "ellipsis"
        # One line, always (CSS): no layout pass for a new version number.
        self.query_one("#meta", Static).update(text, layout=False)
        self._show_health(str(deal.id))
        self.sub_title = deal.title

    def _show_health(self, deal_id: str) -> None:
        """Why the deal has its health score: the score and what costs it the most."""
        snapshot = self.vectoros.snapshot
        health = snapshot.health.get(deal_id) if snapshot is not None else None
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.deal is not None and self.deal.outcome:
            line.append(f"Closed ({self.deal.outcome}): Outcome open reopens it", style="dim")
        elif health is not None:
            line.append("Health ", style="dim")
            line.append(
                f"{health.health_score:.0f} {health.health_status}",
                style=Palette.of(self.app).health(health.health_status),
            )
            weakest = health.weakest_components()
            if weakest:
                line.append(" · ", style="dim")
                line.append("; ".join(part.explanation for _, part in weakest))
        self.query_one("#health", Static).update(line)

    def _show_timeline(self, activities: list[ActivityView], changes: list[Change]) -> None:
        if activities == self.activities and changes == self.changes:
            return  # a save leaves the timeline as it was: keep the table (and its cursor)
        self.activities = activities
        self.changes = changes
        members = {str(m.id): m.label for m in self._members()}
        self.query_one("#activities", ActivityTable).show(
            activities, changes, self.vectoros.now().date(), members
        )

    # --- validation -----------------------------------------------------------------

    def form_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            name: self.query_one(f"#field-{name}", Input).value for name, _ in TEXT_FIELDS
        }
        values["stage"] = self.query_one("#field-stage", Select).value
        outcome = self.query_one("#field-outcome", Select).value
        values["outcome"] = None if outcome == "open" else outcome
        return values

    def _validate(self) -> dict[str, Any] | None:
        """Show every field's error (touched fields, or all after a save attempt)."""
        errors: dict[str, str] = {}
        clean = None
        values = self.form_values()
        try:
            # A date that reads two ways (01/02/2027) is refused, not guessed.
            clean = clean_deal(values, refuse_ambiguous=True)
        except ValidationError as exc:
            errors = {e.field: e.message for e in exc.errors}
        if self.deal is not None and self.deal.value and not str(values["value"]).strip():
            # A blank amount is $0 to the store: on a deal that has one, more likely a
            # slip of the delete key than a deal worth nothing (the CLI refuses it too).
            errors.setdefault("value", "is empty: type 0 if the deal is worth nothing")
            clean = None
        hints, alerts = self._hints(values, errors)
        for name in (*DEAL_FIELDS, *NEXT_STEP_FIELDS):
            message = errors.get(name, "")
            shown = message if (self.tried_to_save or self.deal is not None) else ""
            hint = "" if shown else hints.get(name, "")
            line = f"{name.replace('_', ' ')}: {shown}" if shown else hint
            alert = bool(hint) and name in alerts
            if self._errors_shown.get(name, ("", False)) == (line, alert):
                continue
            self._errors_shown[name] = (line, alert)
            error = self.query_one(f"#error-{name}", Static)
            error.update(Text(line))
            error.set_class(bool(hint), "-hint")
            error.set_class(alert, "-alert")
            error.display = bool(line)
        return clean

    def _hints(
        self, values: dict[str, Any], errors: dict[str, str]
    ) -> tuple[dict[str, str], set[str]]:
        """The lines under valid fields: how a typed date was read, and, on an open deal,
        a next step that is overdue or missing (``alerts``: those that ask for the rep)."""
        hints: dict[str, str] = {}
        alerts: set[str] = set()
        read: dict[str, date] = {}
        for name in DATE_FIELDS:
            typed = str(values.get(name) or "").strip()
            if name in errors or not typed:
                continue
            try:
                read[name] = understood = parse_calendar_date(typed)
            except ValueError:
                continue
            if not _ISO_DATE.fullmatch(typed):
                hints[name] = f"read as {understood:%a %-d %b %Y} ({understood})"
        if values.get("outcome") is not None or values.get("stage") == "closed":
            return hints, alerts  # a closed deal has no next step to chase
        today = self.vectoros.now().date()
        due = read.get("next_step_due")
        if due is not None and due < today:
            overdue = f"{OVERDUE_MARK} overdue: was due {due_in_words(due, today)}"
            hints["next_step_due"] = " · ".join(filter(None, [hints.get("next_step_due"), overdue]))
            alerts.add("next_step_due")
        if "next_step" not in errors and not str(values.get("next_step") or "").strip():
            hints["next_step"] = f"{MISSING_MARK} none yet: what happens next, and by when?"
            alerts.add("next_step")
        return hints, alerts

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self._validate()

    @on(Select.Changed, "#field-outcome")
    def _outcome_changed(self, event: Select.Changed) -> None:
        """Reopening is one choice: a closed deal set back to open returns to the stage
        and probability it had before it closed (shown before saving)."""
        deal = self.deal
        if event.value != "open" or deal is None or not deal.outcome:
            return
        if self.query_one("#field-stage", Select).value != "closed":
            return
        stage, probability = self._reopen_to or ("prospect", None)
        self.query_one("#field-stage", Select).value = stage
        self.query_one("#field-probability", Input).value = field_text(probability)
        self.query_one("#field-lost_reason", Input).value = ""
        self.notify(f"Reopened at {stage}: ctrl+s saves it, Esc discards.", timeout=4)

    def _members(self) -> tuple[Any, ...]:
        """The members as last read with the deal (else the snapshot's)."""
        if self._members_read is not None:
            return self._members_read
        snapshot = self.vectoros.snapshot
        return snapshot.members if snapshot is not None else ()

    def chosen_owner(self) -> uuid.UUID | None:
        value = self.query_one("#field-owner", Select).value
        return uuid.UUID(str(value)) if isinstance(value, str) and value else None

    def _owner_changed(self) -> bool:
        return self.deal is not None and self.chosen_owner() != self.deal.owner_id

    def has_unsaved_changes(self) -> bool:
        clean = self._validate()
        if self.deal is None:
            return any(v not in (None, "", "prospect") for v in self.form_values().values())
        return (
            clean is None
            or self._owner_changed()
            or any(self.deal.editable_fields().get(k) != v for k, v in clean.items())
        )

    # --- saving ---------------------------------------------------------------------

    def action_save(self, overwrite_version: int | None = None) -> None:
        self.tried_to_save = True
        clean = self._validate()
        if clean is None:
            self.notify("Fix the fields marked in red first.", severity="error", timeout=4)
            return
        if self.saving:
            return
        self.saving = True
        expected = overwrite_version or (self.deal.version if self.deal else None)
        owner = self.chosen_owner()
        if self.deal is None or self._owner_changed():
            # A new deal without a chosen owner is the user's own (the session decides).
            self._save(clean, expected, {"owner_id": owner} if owner or self.deal else {})
        else:
            self._save(clean, expected, {})

    @work(
        thread=True,
        exclusive=True,
        group="editor-save",
        exit_on_error=False,
        description="editor-save",
    )
    def _save(
        self, clean: dict[str, Any], expected_version: int | None, owner: dict[str, Any]
    ) -> None:
        app = self.app
        session = self.require_session()
        try:
            saved = session.save_deal(
                self.deal.id if self.deal else None,
                {**clean, **owner},
                expected_version=expected_version,
            )
        except ConflictError as exc:
            app.call_from_thread(self._conflict, clean, exc.current)
            return
        except (ValidationError, NotFoundError, ForbiddenError) as exc:
            app.call_from_thread(self._save_failed, str(exc))
            return
        # The save has reached every screen: the forecast recomputing under this editor
        # goes first, then the timeline is read again for the form.
        FOREGROUND.step_aside(_FORECAST_FIRST_S)
        activities = session.store.activities.list(saved.id)
        changes = [Change.from_history(event) for event in session.store.deals.history(saved.id)]
        reopen_to = session.store.deals.before_closing(saved.id) if saved.outcome else None
        # Read again: saving a new deal may have made its owner (me) a member.
        self._members_read = tuple(session.store.owners.members(saved.workspace_id))
        app.call_from_thread(self._saved, saved, activities, reopen_to, changes)

    def _save_failed(self, message: str) -> None:
        self.saving = False
        self.notify(message, title="Not saved", severity="error", timeout=8)

    def _saved(
        self,
        deal: DealView,
        activities: list[ActivityView],
        reopen_to: tuple[str, int | None] | None,
        changes: list[Change],
    ) -> None:
        self.saving = False
        created = self.deal is None
        self._fill(deal, activities, reopen_to, changes)
        self.notify(f"{'Created' if created else 'Saved'} '{deal.title}'", timeout=3)

    def _conflict(self, mine: dict[str, Any], theirs: DealView | None) -> None:
        self.saving = False
        if theirs is None:
            self.notify("The deal was deleted by someone else.", severity="error")
            return
        from vectoros_tui.screens.conflict import ConflictScreen

        def decide(choice: str | None) -> None:
            if choice == "reload":
                self._load()
                self.notify("Loaded their version; your edits were discarded.", timeout=4)
            elif choice == "overwrite":
                self.action_save(overwrite_version=theirs.version)

        self.app.push_screen(ConflictScreen(mine, theirs.editable_fields(), theirs.version), decide)

    # --- won / lost / delete --------------------------------------------------------

    def action_mark(self, outcome: str) -> None:
        if outcome == "won":
            self._set_outcome("won", None)
            return
        from vectoros_tui.screens.close_deal import CloseDealScreen

        def closed(result: tuple[str, str | None] | None) -> None:
            if result is not None:
                self._set_outcome(*result)

        title = self.query_one("#field-title", Input).value or "this deal"
        self.app.push_screen(CloseDealScreen(title), closed)

    def _set_outcome(self, outcome: str, reason: str | None) -> None:
        self.query_one("#field-stage", Select).value = "closed"
        self.query_one("#field-outcome", Select).value = outcome
        self.query_one("#field-lost_reason", Input).value = reason or ""
        self.query_one("#field-probability", Input).value = "100" if outcome == "won" else "0"
        close_date = self.query_one("#field-close_date", Input)
        today = self.vectoros.now().date()
        try:
            planned = date.fromisoformat(close_date.value.strip())
        except ValueError:
            planned = None
        if planned is None or planned > today:
            # It closed today: a close date still ahead would say otherwise.
            close_date.value = today.isoformat()
        self.action_save()

    def action_delete_deal(self) -> None:
        if self.deal is None:
            self.dismiss()
            return
        from vectoros_tui.screens.messages import ConfirmScreen

        deal = self.deal

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._delete(deal)

        self.app.push_screen(
            ConfirmScreen(f"Delete '{deal.title}' and its activities?", "Delete"), confirmed
        )

    @work(thread=True, group="editor-save", exit_on_error=False, description="editor-save")
    def _delete(self, deal: DealView) -> None:
        try:
            self.require_session().delete_deal(deal.id, expected_version=deal.version)
        except ConflictError as exc:
            self.app.call_from_thread(self._conflict_on_delete, str(exc))
            return
        except ForbiddenError as exc:
            self.app.call_from_thread(self._save_failed, str(exc))
            return
        self.app.call_from_thread(self._deleted, deal.title)

    def _conflict_on_delete(self, message: str) -> None:
        self.notify(message, severity="warning")
        self._load()

    def _deleted(self, title: str) -> None:
        self.notify(f"Deleted '{title}'", timeout=3)
        self.dismiss()

    # --- activities -----------------------------------------------------------------

    def _highlighted_activity(self) -> ActivityView | None:
        """The activity under the timeline's cursor, when the timeline has focus; a
        history row is only read, and says so."""
        table = self.query_one("#activities", ActivityTable)
        if self.focused is not table:
            return None
        key = table.highlighted_key()
        found = next((a for a in self.activities if str(a.id) == key), None)
        if found is None and key is not None:
            self.notify("That row is the deal's history: it is read, not edited.", timeout=3)
        return found

    def action_add_activity(self) -> None:
        if self.deal is None:
            self.notify("Save the deal before adding activities.", severity="warning")
            return
        from vectoros_tui.screens.activity_form import ActivityFormScreen

        deal_id = self.deal.id

        def added(data: dict[str, Any] | None) -> None:
            if data is not None:
                verb = "Planned" if data.get("done") is False else "Added"
                self._activity_change(lambda s: s.add(deal_id, data), f"{verb} the {data['type']}")

        self.app.push_screen(ActivityFormScreen(now=self.vectoros.now()), added)

    def action_edit_activity(self) -> None:
        item = self._highlighted_activity()
        if item is None:
            return
        from vectoros_tui.screens.activity_form import ActivityFormScreen

        def edited(data: dict[str, Any] | None) -> None:
            if data is not None:
                self._activity_change(
                    lambda s: s.update(item.id, data), f"Updated the {data['type']}"
                )

        self.app.push_screen(ActivityFormScreen(item, now=self.vectoros.now()), edited)

    def action_mark_activity_done(self) -> None:
        item = self._highlighted_activity()
        if item is None:
            return
        if item.done:
            self.notify(f"This {item.type} is done already.", timeout=2)
            return
        # Dated when it was done, by the app's clock (the timeline's "today").
        now = self.vectoros.now()
        self._activity_change(lambda s: s.mark_done(item.id, now), f"Done: the {item.type}")

    @on(DataTable.RowSelected, "#activities")
    def _activity_chosen(self) -> None:
        self.action_edit_activity()

    def action_delete_activity(self) -> None:
        item = self._highlighted_activity()
        if item is None:
            return
        from vectoros_tui.screens.messages import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._activity_change(lambda s: s.delete(item.id), f"Deleted the {item.type}")

        self.app.push_screen(ConfirmScreen(f"Delete this {item.type}?", "Delete"), confirmed)

    @work(thread=True, group="editor-activity", exit_on_error=False, description="editor-activity")
    def _activity_change(self, change: Callable[[ActivityService], object], done: str) -> None:
        """Through the session, so the snapshot (health, the board) sees it too; ``done``
        is what the rep is told afterwards."""
        assert self.deal is not None
        session = self.require_session()
        session.change_activities(self.deal.id, change)
        activities = session.store.activities.list(self.deal.id)
        self.app.call_from_thread(self._activities_changed, activities, done)

    def _activities_changed(self, activities: list[ActivityView], done: str) -> None:
        self._show_timeline(activities, self.changes)
        self.notify(done, timeout=2)

    def action_like_deal(self) -> None:
        if self.deal is None:
            self.notify("Save the deal first: similar deals are found for saved deals.")
            return
        self.vectoros.find_similar(str(self.deal.id))

    # --- leaving --------------------------------------------------------------------

    def action_close(self) -> None:
        if not self.has_unsaved_changes():
            self.dismiss()
            return
        from vectoros_tui.screens.messages import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.dismiss()

        self.app.push_screen(ConfirmScreen("Discard your unsaved changes?", "Discard"), confirmed)

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        return [
            ("Save deal", "Save the form (ctrl+s)", self.action_save),
            ("Mark won", "Close the deal as won (F6)", lambda: self.action_mark("won")),
            (
                "Mark lost",
                "Close the deal as lost, with a reason (F7)",
                lambda: self.action_mark("lost"),
            ),
            ("Add activity", "Log an email, call, meeting or note (F8)", self.action_add_activity),
            ("Delete deal", "Delete this deal (F9)", self.action_delete_deal),
        ]
