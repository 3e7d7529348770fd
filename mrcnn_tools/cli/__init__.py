"""Command-line interfaces: thin layers over the library, one module per command."""
