"""``guji suggest``: machine suggestions for each line of a text (DESIGN.md §5).

The CLI's author adds the command with ``register(app)``. Usage::

    guji suggest [FILE|-] --json      # one {"spans": [...]} object per input line
    guji suggest --train              # build the model from ../shared into $GUJI_HOME/models

Which mode ran (trained model, rules, patterns only) is said on stderr.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import typer

from annotation.errors import SuggestInputError
from kg.errors import GujiError


def decoded_lines(stream: BinaryIO, name: str = "<stdin>") -> Iterator[str]:
    """Lines without their line break; invalid UTF-8 → :class:`SuggestInputError` naming the line."""
    for lineno, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SuggestInputError(
                f"input is not valid UTF-8 (byte {exc.start + 1} of line {lineno})",
                file=name, line=lineno, column=exc.start + 1,
            ) from None
        if lineno == 1 and text.startswith("\ufeff"):
            text = text[1:]  # a BOM is not part of the first line's text
        yield text.rstrip("\r\n") if text.endswith("\n") else text


def register(app: typer.Typer) -> None:
    @app.command("suggest")
    def suggest(
        file: str = typer.Argument("-", help="text file, one line per suggestion request; '-' or nothing reads stdin"),
        json_out: bool = typer.Option(False, "--json", help="one JSON object per input line"),
        train: bool = typer.Option(False, "--train", help="build the suggestion model from ../shared and exit"),
        epochs: int = typer.Option(12, "--epochs", help="with --train: most epochs to run"),
        max_seconds: float = typer.Option(600.0, "--max-seconds", help="with --train: time budget"),
        rules_only: bool = typer.Option(False, "--rules-only", help="ignore a trained model"),
        relations: bool = typer.Option(False, "--relations", help="also relations between the spans (任职, 上下级 …)"),
    ) -> None:
        """Machine suggestions (PER, LOC, OFI, BOOK, DATE) for each line; nothing is stored."""
        from annotation.suggest import SuggestConfig, SuggestionService

        try:
            if train:
                from annotation.suggest.training import train_model

                report = train_model(
                    SuggestConfig(home=_home()), epochs=epochs, max_seconds=max_seconds,
                    progress=lambda m: typer.echo(f"guji suggest: {m}", err=True),
                )
                if json_out:
                    import dataclasses
                    import json

                    typer.echo(json.dumps(dataclasses.asdict(report), ensure_ascii=False))
                return
            config = SuggestConfig(home=_home(), use_model=not rules_only)
            service = SuggestionService(config)
            if service.info().mode == "rules" and not rules_only:
                if _train_first(sys.stderr.isatty()):
                    from annotation.suggest.training import train_model

                    typer.echo("guji suggest: no suggestion model yet: building it once now (≈1–3 min on 2 cores; "
                               "--rules-only skips this)", err=True)
                    train_model(config, progress=_progress_bar())
                    service = SuggestionService(config)
                else:
                    typer.echo("guji suggest: no suggestion model: persons come from prose patterns and names "
                               "already known only; `guji suggest --train` builds the model once (≈1–3 min)", err=True)
            typer.echo(f"guji suggest: {service.info().summary()}", err=True)
            rel_model = None
            if relations:
                from annotation.suggest.relations import load_or_train

                rel_model = load_or_train(config.home, config.chisiec_dir,
                                          progress=lambda m: typer.echo(f"guji suggest: {m}", err=True))
            # check everything first: invalid UTF-8 anywhere → an error and no partial output;
            # then stream (a line at a time, never the whole input in memory)
            if file == "-":
                with tempfile.TemporaryFile() as spool:  # stdin can be read once: keep a copy on disk
                    for _ in decoded_lines(_copying(sys.stdin.buffer, spool)):
                        pass
                    spool.seek(0)
                    _run(service, decoded_lines(spool), json_out, rel_model)
            else:
                path = Path(file)
                if not path.is_file():
                    raise SuggestInputError("input file not found", file=str(path))
                with open(path, "rb") as fh:
                    for _ in decoded_lines(fh, str(path)):
                        pass
                    fh.seek(0)
                    _run(service, decoded_lines(fh, str(path)), json_out, rel_model)
        except GujiError as err:
            typer.echo(f"guji suggest: error: {err}", err=True)
            raise typer.Exit(1) from None


def _home() -> Path:
    """The same $GUJI_HOME as every other command (a per-user data directory when unset), so that
    the model `guji suggest --train` builds is the one `guji serve` uses."""
    from api.settings import get_settings

    return get_settings().home


def _train_first(interactive: bool) -> bool:
    """Build the model before suggesting when a person is watching (stderr is a terminal) and
    ``GUJI_SUGGEST_AUTO_TRAIN`` does not say no; a script gets rules at once, and a note."""
    import os

    return interactive and os.environ.get("GUJI_SUGGEST_AUTO_TRAIN", "true").strip().lower() not in ("0", "false", "no", "off")


def _progress_bar():
    """Training progress as one line that redraws: epoch n of N, held-out F1, elapsed and ETA."""
    import re
    import time

    started = time.monotonic()

    def show(message: str) -> None:
        m = re.match(r"epoch (\d+)(?:/(\d+))?:.*held-out F1 ([0-9.]+)", message)
        if m is None:
            typer.echo(f"\rguji suggest: {message}\033[K", err=True)
            return
        done, total = int(m.group(1)), int(m.group(2) or 12)
        elapsed = time.monotonic() - started
        eta = elapsed / done * (total - done)
        bar = "#" * (20 * done // total)
        typer.echo(f"\rguji suggest: [{bar:<20}] epoch {done}/{total} F1 {m.group(3)}  "
                   f"{elapsed:.0f}s, about {eta:.0f}s left\033[K", err=True, nl=False)

    return show


def _copying(stream: BinaryIO, spool: BinaryIO) -> Iterator[bytes]:
    for raw in stream:
        spool.write(raw)
        yield raw


def _run(service, lines: Iterable[str], json_out: bool, rel_model=None) -> None:
    import itertools
    import json

    out = sys.stdout
    texts, read = itertools.tee(lines)  # the line's text beside its result (a batch apart at most)
    for lineno, (result, text) in enumerate(zip(service.suggest_lines(read), texts), start=1):
        rels = []
        if rel_model is not None:
            ents = [(sp.start, sp.end, sp.label) for sp in result.spans]
            rels = rel_model.relations(text, ents)
        if json_out:
            if rel_model is None:
                out.write(result.to_json() + "\n")
            else:
                data = result.to_dict()
                data["relations"] = [{"head": h, "tail": t, "type": r} for h, t, r in rels]
                out.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
        else:
            for span in result.spans:
                extra = ""
                if span.dates:
                    extra = "  " + "; ".join(
                        " ".join(str(x) for x in (d.regime, d.era, d.edtf) if x is not None) for d in span.dates
                    )
                out.write(f"{lineno}:{span.start}-{span.end}\t{span.label}\t{span.text}{extra}\n")
            for h, t, r in rels:
                a, b = result.spans[h], result.spans[t]
                out.write(f"{lineno}:{a.start}-{a.end}>{b.start}-{b.end}\t{r}\t{a.text} → {b.text}\n")
        out.flush()
