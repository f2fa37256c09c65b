"""``python -m probhealth``."""

from probhealth.cli import main

if __name__ == "__main__":
    main()
