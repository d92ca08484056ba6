"""Entry point of `python -m dashboard`."""

from dashboard.cli.main import main

if __name__ == "__main__":
    main()
