"""The local directories the embedded defaults write to (the SQLite database, the SQLite broker,
collected static files), made when Django starts rather than when settings are imported:
importing settings has no side effects (a check, a test or a tool may read them)."""

from pathlib import Path


def ensure_local_dirs(settings) -> list[Path]:
    """Make VAR_DIR and STATIC_ROOT if missing (WhiteNoise warns on every start without the
    latter); returns the directories it made."""
    made = []
    for directory in (Path(settings.VAR_DIR), Path(settings.STATIC_ROOT)):
        if not directory.exists():
            directory.mkdir(parents=True, exist_ok=True)
            made.append(directory)
    return made
