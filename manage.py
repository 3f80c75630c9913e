#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    from config.startup import BUILD_COMMANDS, refuse_unsafe_production

    if sys.argv[1:2] and sys.argv[1] not in BUILD_COMMANDS:
        refuse_unsafe_production()

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
