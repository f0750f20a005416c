"""The vocabulary of a tier run, light enough for the command line to import at start-up."""

ORDERS = ("interleaved", "grouped")
FORMATS = ("table", "markdown", "json", "csv")
PARTS = ("summary", "runs")
# With "retry flex 503s", a shed flex call is tried this many times in all, within its timeout.
FLEX_RETRY_ATTEMPTS = 4
