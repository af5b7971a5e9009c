"""Who may use a service: accounts, bearer tokens and roles."""
