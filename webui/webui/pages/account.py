"""The account page."""

import reflex as rx

from webui.components.feedback import deleted_card
from webui.components.layout import card, error_callout, labelled, page
from webui.states.account import AccountState


def delete_card() -> rx.Component:
    """Delete the account after typing the password."""
    return card(
        rx.heading("Delete account", size="4", as_="h2"),
        rx.text(
            "Deletes all your samples (uploads, results, reports, run partitions) and then your account. "
            "This cannot be undone.",
            size="2",
            color_scheme="gray",
        ),
        rx.form(
            rx.vstack(
                labelled("Type your password to confirm:", "confirm-password", weight="regular"),
                rx.input(
                    name="password",
                    type="password",
                    auto_complete="current-password",
                    required=True,
                    id="confirm-password",
                    max_width="320px",
                ),
                error_callout(AccountState.error, id="account-error"),
                rx.button(
                    rx.icon("trash-2", size=14),
                    "Delete my account and all data",
                    color_scheme="red",
                    type="submit",
                    loading=AccountState.deleting,
                    id="delete-account",
                    width="fit-content",
                ),
                spacing="3",
            ),
            on_submit=AccountState.delete_account,
            reset_on_submit=True,
        ),
    )


@rx.page(route="/account", title="Account · just-dna-lite", on_load=AccountState.load)
def account() -> rx.Component:
    """Account details and deletion."""
    return page(
        rx.cond(
            AccountState.deleted.length() > 0,
            deleted_card(
                "Your account and all its data are deleted.",
                AccountState.deleted,
                ("Create a new account", "/signup"),
                "account-deleted",
            ),
            rx.vstack(
                card(
                    rx.heading("Signed in as ", AccountState.user_name, size="4", as_="h2"),
                    rx.text(
                        "Sessions expire automatically; log out from the menu at the top right.", size="2"
                    ),
                ),
                delete_card(),
                spacing="5",
                width="100%",
            ),
        ),
        title="Account",
    )
