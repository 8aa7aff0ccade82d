"""A page load's status loop runs once: the tab can send a background event itself, and each copy was one more loop
re-reading the samples every 2 s for as long as a run went on (a security review had 3,000 copies take a core)."""

from __future__ import annotations

from webui.states.run import RunState
from webui.states.sample import SampleState
from webui.states.samples import SamplesState
from webui.states.status_watch import TAKEN, WATCH_TICKET, take_ticket


def test_a_page_loads_ticket_is_claimed_by_one_loop_only() -> None:
    for state_class, field in (
        (SamplesState, WATCH_TICKET),
        (SampleState, WATCH_TICKET),
        (RunState, "_ticket"),
    ):
        state = state_class(_reflex_internal_init=True)  # the app's own state classes, outside a running app
        assert take_ticket(state, field) is None  # no page load issued one: nothing to follow
        setattr(state, field, "load-1")
        claimed = take_ticket(state, field)
        assert claimed == TAKEN + "load-1" and getattr(state, field) == claimed
        assert take_ticket(state, field) is None  # the event sent again: no second loop
        setattr(state, field, "load-2")  # the page loaded again: the old loop no longer matches and stops
        assert getattr(state, field) != claimed
        assert take_ticket(state, field) == TAKEN + "load-2"
