"""How much ``appctl mcp`` lists at once (no imports: the CLI's options read these)."""

AUTO_CATALOGUE = 200  # more tools than this: catalogue mode unless --no-catalogue
PAGE_SIZE = 100  # tools per tools/list page in direct mode
