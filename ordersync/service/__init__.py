"""A service put together: the factory's registration steps, its settings, commands and server."""
