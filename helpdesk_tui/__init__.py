"""helpdesk-tui: a terminal helpdesk on the Ticket Service's MongoDB."""
