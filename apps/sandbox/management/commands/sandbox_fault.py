"""manage.py sandbox_fault KIND [--endpoint egvs] [--times 3|--forever] [--user SandboxUser1]
   [--param seconds=3 ...]   or   manage.py sandbox_fault --clear   or   manage.py sandbox_fault --list

Toggles the emulator's faults from a shell during the demo (same rows as faults.inject()).
"""

import json

from django.core.management.base import BaseCommand, CommandError

from apps.sandbox import faults
from apps.sandbox.models import Fault


class Command(BaseCommand):
    help = "Inject, list or clear emulator faults."

    def add_arguments(self, parser):
        parser.add_argument("kind", nargs="?", choices=faults.KINDS)
        parser.add_argument("--endpoint", default="*", choices=faults.ENDPOINTS)
        parser.add_argument("--times", type=int, default=1)
        parser.add_argument("--forever", action="store_true", help="until --clear")
        parser.add_argument("--user", default="", help="only this sandbox user's calls")
        parser.add_argument("--param", action="append", default=[], help="NAME=VALUE, e.g. seconds=3")
        parser.add_argument("--clear", action="store_true")
        parser.add_argument("--list", action="store_true")

    def handle(self, *args, kind, endpoint, times, forever, user, param, clear, list, **options):
        if clear:
            self.stdout.write(f"Cleared {faults.clear()} fault(s).")
        elif kind:
            params = dict(self._param(text) for text in param)
            fault = faults.inject(
                kind=kind,
                endpoint=endpoint,
                times=None if forever else times,
                sandbox_user_key=user,
                **params,
            )
            self.stdout.write(f"Injected {fault}.")
        elif not list:
            raise CommandError("give a fault kind, --clear or --list")
        for fault in Fault.objects.all():
            self.stdout.write(
                f"  #{fault.pk} {fault} user={fault.sandbox_user_key or 'any'} {json.dumps(fault.params)}"
            )

    def _param(self, text: str):
        name, sep, value = text.partition("=")
        if not sep or not name:
            raise CommandError(f"--param {text!r}: expected NAME=VALUE")
        try:
            return name, json.loads(value)
        except ValueError:
            return name, value
