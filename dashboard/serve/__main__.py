"""`python -m dashboard.serve`: the launcher (dashboard.serve.launcher)."""

from dashboard.serve.launcher import main

if __name__ == "__main__":
    main()
