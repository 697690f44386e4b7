"""``python -m helpdesk_tui``: the same as the ``helpdesk-tui`` command (``serve`` runs this)."""

from helpdesk_tui.launch import main

main()
