"""The console's pages, one module per area. Every view reads through `request.scope`
(confero.console.scope) and writes through the domains' services."""
