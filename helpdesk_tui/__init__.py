"""helpdesk-tui: a terminal helpdesk on the Ticket Service's MongoDB."""

# The one place the version is written: pyproject.toml reads it from here when building
# ([tool.setuptools.dynamic]), `helpdesk-tui --version` prints it. CHANGELOG.md says what changed.
__version__ = "0.2.0"
