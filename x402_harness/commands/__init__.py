"""One module per CLI subcommand; each exposes `add_parser(subparsers)` and `run(args) -> int`.

`add_parser` imports nothing heavy (it runs for every command line, `--help` included); `run`
imports what the command needs.
"""
