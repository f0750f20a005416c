"""The tier tester's dialogs: the form that starts a run, and the confirmation before a delete."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from console.tui import services

if TYPE_CHECKING:
    from textual import getters

    from console.tui.app import GemopsApp

TIERS = ("flex", "standard", "priority")
ORDER_OPTIONS = [
    ("interleaved (fair to drift)", "interleaved"),
    ("grouped (tier by tier)", "grouped"),
]


@dataclass
class FormValues:
    """What the form shows: the settings' defaults, or the last run's choices."""

    model: str
    prompt: str = ""
    prompt_file: str = ""
    tiers: tuple[str, ...] = TIERS
    runs_per_tier: int = 5
    order: str = "interleaved"
    concurrency: int = 1
    retry_flex: bool = False
    timeouts: dict[str, float] = field(default_factory=dict)


class TierRunForm(ModalScreen):
    """Start a run: model, prompt, tiers, runs per tier, order, concurrency, timeouts, retry
    flex 503s. Bad input is explained here and nothing typed is lost.

    Tab goes top to bottom, prompt to tiers. The prompt is only ever the text in the prompt
    box: the file field, last in the form, loads a file's text into that box (enter), so a
    typed prompt is never read as a path. Escape closes the form."""

    if TYPE_CHECKING:  # `self.app` as the gemops app for the type checker
        app = getters.app(GemopsApp)

    DEFAULT_CSS = """
    TierRunForm { align: center middle; }
    TierRunForm > VerticalScroll {
        width: 100%; max-width: 104; height: auto; max-height: 100%; border: round $accent;
        background: $surface; padding: 0 1;
    }
    TierRunForm .row { height: auto; }
    TierRunForm Label { width: 14; padding: 1 0 0 0; }
    TierRunForm .short { width: 10; }
    TierRunForm .inline-label { width: auto; padding: 1 1 0 2; }
    TierRunForm #model, TierRunForm #prompt-file { width: 1fr; }
    TierRunForm #prompt { height: 5; width: 1fr; }
    TierRunForm #order { width: 36; }
    TierRunForm Checkbox { width: auto; }
    TierRunForm #form-title { text-style: bold; padding: 0 0 1 0; }
    TierRunForm #form-error { color: $error; height: auto; padding: 0 0 0 14; }
    TierRunForm #buttons { height: auto; align-horizontal: right; padding: 1 0 0 0; }
    TierRunForm Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("ctrl+s", "start", "Start the run", id="tier-form.start"),
        Binding("escape", "cancel", "Cancel", id="tier-form.cancel"),
    ]

    def __init__(self, values: FormValues) -> None:
        super().__init__()
        self._values = values

    def compose(self) -> ComposeResult:
        v = self._values
        timeouts = v.timeouts
        with VerticalScroll():
            yield Static("New tier run: the same prompt, N times on each tier", id="form-title")
            with Horizontal(classes="row"):
                yield Label("Model")
                yield Input(v.model, id="model")
            with Horizontal(classes="row"):
                yield Label("Prompt")
                yield TextArea(v.prompt, id="prompt", soft_wrap=True, show_line_numbers=False)
            with Horizontal(classes="row"):
                yield Label("Tiers")
                for tier in TIERS:
                    yield Checkbox(tier, tier in v.tiers, id=f"tier-{tier}")
            with Horizontal(classes="row"):
                yield Label("Runs per tier")
                yield Input(str(v.runs_per_tier), type="integer", id="runs", classes="short")
                yield Static("Order", classes="inline-label")
                yield Select(ORDER_OPTIONS, value=v.order, allow_blank=False, id="order")
                yield Static("Concurrency", classes="inline-label")
                yield Input(str(v.concurrency), type="integer", id="concurrency",
                            classes="short")
            with Horizontal(classes="row"):
                yield Label("Timeouts (s)")
                for tier in TIERS:
                    yield Static(tier, classes="inline-label")
                    yield Input(f"{timeouts.get(tier, 60.0):g}", type="number",
                                id=f"timeout-{tier}", classes="short")
            with Horizontal(classes="row"):
                yield Label("")
                yield Checkbox("retry flex 503s (up to 4 tries within the flex timeout)",
                               v.retry_flex, id="retry-flex")
            with Horizontal(classes="row"):
                yield Label("Load prompt")
                yield Input(v.prompt_file, placeholder="path to a UTF-8 text file, then enter "
                            "— its text fills the prompt box", id="prompt-file")
            yield Static("", id="form-error")
            with Horizontal(id="buttons"):
                yield Button("Start  ctrl+s", variant="primary", id="start")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#prompt" if self._values.model else "#model").focus()

    @on(Input.Submitted, "#prompt-file")
    def _load_prompt(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        if not path:
            return
        try:
            text = services.tiers.read_prompt_file(path)
        except ValueError as error:  # PlanError: which file and why
            self.query_one("#form-error", Static).update(str(error))
            return
        prompt = self.query_one("#prompt", TextArea)
        prompt.text = text
        self.query_one("#form-error", Static).update("")
        self.query_one("#prompt-file", Input).value = ""
        prompt.focus()

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_start(self) -> None:
        try:
            runs = self._integer("runs", "runs per tier")
            concurrency = self._integer("concurrency", "concurrency")
            timeouts = {t: self._number(f"timeout-{t}", f"the {t} timeout") for t in TIERS}
            plan = services.tiers.TierPlan.from_settings(
                self.app.workspace.settings,
                model=self.query_one("#model", Input).value.strip(),
                prompt=self.query_one("#prompt", TextArea).text.strip() or None,
                tiers=[t for t in TIERS if self.query_one(f"#tier-{t}", Checkbox).value],
                runs_per_tier=runs,
                order=str(self.query_one("#order", Select).value),
                concurrency=concurrency,
                retry_flex=self.query_one("#retry-flex", Checkbox).value,
                timeouts=timeouts,
            )
        except ValueError as error:
            self.query_one("#form-error", Static).update(str(error))
            return
        self.dismiss(plan)

    def _integer(self, widget_id: str, what: str) -> int:
        text = self.query_one(f"#{widget_id}", Input).value.strip()
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{what} must be a whole number (got {text or 'nothing'})") from None

    def _number(self, widget_id: str, what: str) -> float:
        text = self.query_one(f"#{widget_id}", Input).value.strip()
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{what} must be a number of seconds (got {text or 'nothing'})") from None
