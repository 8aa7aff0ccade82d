"""Web app placeholder; the Reflex app arrives with the web app issue."""
