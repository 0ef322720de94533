"""Where the suggestion service finds its data and its trained model.

``home`` (the CLI and the server pass $GUJI_HOME, by default a per-user data directory; this class alone
falls back to ``GUJI_HOME`` or ``./var``) holds the built model under ``models/suggest-ner``.
``GUJI_SHARED`` points at the shared data folder (default: ``../shared`` beside the project,
when it exists); without it, suggestions use what ships with the code: the 《…》 pattern and the
reign calendar inside the ``sanmiao`` package.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODEL_NAME = "suggest-ner"


def default_shared_dir() -> Path | None:
    env = os.environ.get("GUJI_SHARED")
    if env:
        return Path(env)
    candidate = PROJECT_ROOT.parent / "shared"
    return candidate if candidate.is_dir() else None


@dataclass(frozen=True)
class SuggestConfig:
    home: Path = field(default_factory=lambda: Path(os.environ.get("GUJI_HOME", "var")))
    shared_dir: Path | None = field(default_factory=default_shared_dir)
    model_dir: Path | None = None  # default: home/models/suggest-ner
    use_model: bool = True  # False: rules only (gazetteers + patterns), even when a model exists
    civ: tuple[str, ...] = ("c",)  # sanmiao civilisations: c(hina), j(apan), k(orea)

    @property
    def model_path(self) -> Path:
        return self.model_dir or self.home / "models" / MODEL_NAME

    @property
    def shared(self) -> Path | None:
        return self.shared_dir if self.shared_dir is not None and self.shared_dir.is_dir() else None

    @property
    def cbdb_dir(self) -> Path | None:
        path = self.shared / "authority" / "cbdb" if self.shared else None
        return path if path is not None and path.is_dir() else None

    @property
    def chisiec_dir(self) -> Path | None:
        path = self.shared / "corpus" / "chisiec" if self.shared else None
        return path if path is not None and path.is_dir() else None
