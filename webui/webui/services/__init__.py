"""The web app's service layer: accounts and owner-checked access to samples, runs and files."""
