"""Protocol cards (docs/<method>.md, section `## Protocol card`) against the configs: one source of truth.

A card is one markdown table with the header HEADER. A row whose `setting` cell is one backticked config path
(`methods.dm.iterations`, `evaluation.epochs`) is machine-checked: its `config/paper.yaml` cell must equal the value at
that path in config/config.yaml deep-merged with config/paper.yaml (as `snakemake --configfile config/paper.yaml`
merges them: snakemake.utils.update_config), and its `default` cell config/config.yaml's value. Numbers compare as
numbers (`1e-4` equals `0.0001`), lists are written `[a, b]`, mappings `{1: 1e-4, 5: 1000}`, and `—` means the key is
absent there. Other rows document free-text choices and are not checked. Every registered distillation method must
be covered by some card: a machine-checked row under `methods.<instance>.` covers the instance's implementation.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from snakemake.utils import update_config

from vidstill.methods import catalogue

HEADER = "| setting | paper | reference code | config/paper.yaml | default | why they differ |"
ABSENT = object()
PATH = re.compile(r"^`([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)+)`$")
# Registered methods a card need not cover: none (ablation *instances* are config entries of a covered method, so
# they never appear in the registry's catalogue).
SKIP: set[str] = set()


def load_configs(root: Path = REPO) -> tuple[dict, dict]:
    default = yaml.safe_load((root / "config/config.yaml").read_text())
    paper = copy.deepcopy(default)
    update_config(paper, yaml.safe_load((root / "config/paper.yaml").read_text()))
    return default, paper


def split_row(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def card_rows(text: str, source: str) -> list[list[str]] | None:
    """The rows of the doc's protocol card (None without a `## Protocol card` section); a malformed card is an error
    naming the file."""
    lines = text.splitlines()
    if "## Protocol card" not in [line.strip() for line in lines]:
        return None
    start = [line.strip() for line in lines].index("## Protocol card")
    table = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.lstrip().startswith("|"):
            table.append(line.strip())
        elif table and line.strip():
            break  # the table ended; prose after it
    if not table or table[0] != HEADER:
        raise AssertionError(f"{source}: the protocol card's table must start with the header {HEADER!r}")
    if not re.fullmatch(r"\|(\s*:?-+:?\s*\|){6}", table[1].replace(" ", "")):
        raise AssertionError(f"{source}: the card's second line must be the header's separator, got {table[1]!r}")
    rows = [split_row(line) for line in table[2:]]
    for row in rows:
        if len(row) != 6:
            raise AssertionError(f"{source}: card row {row!r} has {len(row)} cells, not 6")
    return rows


def cards(root: Path = REPO) -> dict[str, list[list[str]]]:
    out = {}
    for path in sorted((root / "docs").glob("*.md")):
        rows = card_rows(path.read_text(), str(path.relative_to(root)))
        if rows is not None:
            out[str(path.relative_to(root))] = rows
    return out


def lookup(config: dict, path: str):
    node = config
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return ABSENT
        node = node[key]
    return node


def parse_cell(cell: str):
    """A card cell as a value: `—` is absent; otherwise YAML (flow lists and mappings), backticks stripped, and
    strings that read as numbers become numbers (YAML 1.1 reads `1e-4` as a string)."""
    text = cell.strip().strip("`").strip()
    if text in ("—", "-"):
        return ABSENT
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    return numbers(value)


def numbers(value):
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return [numbers(v) for v in value]
    if isinstance(value, dict):
        return {str(k): numbers(v) for k, v in value.items()}
    return value


def same(card, config) -> bool:
    if card is ABSENT or config is ABSENT:
        return card is config
    config = numbers(config)
    if isinstance(card, bool) or isinstance(config, bool):
        return card is config
    if isinstance(card, (int, float)) and isinstance(config, (int, float)):
        return math.isclose(card, config, rel_tol=1e-9, abs_tol=0.0)
    if isinstance(card, list) and isinstance(config, list):
        return len(card) == len(config) and all(same(a, b) for a, b in zip(card, config))
    if isinstance(card, dict) and isinstance(config, dict):
        return card.keys() == config.keys() and all(same(card[k], config[k]) for k in card)
    return card == config


def mismatches(all_cards: dict[str, list[list[str]]], default: dict, paper: dict) -> list[str]:
    problems = []
    for source, rows in all_cards.items():
        for setting, _, _, paper_cell, default_cell, _ in rows:
            m = PATH.match(setting)
            if not m:
                continue
            path = m.group(1)
            for column, cell, config in (("config/paper.yaml", paper_cell, paper), ("default", default_cell, default)):
                want = lookup(config, path)
                if not same(parse_cell(cell), want):
                    shown = "absent" if want is ABSENT else repr(want)
                    problems.append(
                        f"{source}: `{path}`: the card's {column} cell says {cell!r}, the config has {shown}"
                    )
    return problems


def covered(all_cards: dict[str, list[list[str]]], default: dict, paper: dict) -> set[str]:
    """The registered implementations the cards' `methods.<instance>.…` rows describe."""
    out = set()
    for rows in all_cards.values():
        for row in rows:
            m = PATH.match(row[0])
            if m and m.group(1).startswith("methods."):
                instance = m.group(1).split(".")[1]
                for config in (paper, default):
                    entry = config.get("methods", {}).get(instance)
                    if isinstance(entry, dict):
                        out.add(entry.get("method", instance))
    return out


def test_every_machine_checked_row_matches_the_configs():
    default, paper = load_configs()
    all_cards = cards()
    assert all_cards, "no docs/*.md has a `## Protocol card` section"
    assert sum(bool(PATH.match(r[0])) for rows in all_cards.values() for r in rows) > 20
    assert not mismatches(all_cards, default, paper), "\n".join(mismatches(all_cards, default, paper))


def test_every_registered_method_has_a_card():
    default, paper = load_configs()
    missing = sorted(set(catalogue()) - covered(cards(), default, paper) - SKIP)
    assert not missing, f"registered methods without a protocol card row under methods.<instance>: {missing}"


CARD = f"""# x

## Protocol card
{HEADER}
|---|---|---|---|---|---|
| `methods.dm.lr` | 30 | DM.sh: 30 | 30 | 100 | budget |
| `methods.dm.init` | real | real | real | — | default draws real clips |
| `evaluation.cross_arch` | — | — | [] | [] | |
| the loss | Σ‖·‖² | utils.py | | | |
"""


def test_a_wrong_value_an_absent_key_and_a_bad_header_are_caught(tmp_path):
    """The checker itself, on a card it must pass and on one wrong cell at a time."""
    default = {"methods": {"dm": {"lr": 100.0}}, "evaluation": {"cross_arch": []}}
    paper = {"methods": {"dm": {"lr": 30.0, "init": "real"}}, "evaluation": {"cross_arch": []}}
    good = {"x.md": card_rows(CARD, "x.md")}
    assert mismatches(good, default, paper) == [] and covered(good, default, paper) == {"dm"}
    bad = {"x.md": card_rows(CARD.replace("| 30 | 100 | budget |", "| 30 | 1e2 | budget |"), "x.md")}
    assert mismatches(bad, default, paper) == []  # 1e2 is 100: numbers compare as numbers
    bad = {"x.md": card_rows(CARD.replace("| 30 | 100 | budget |", "| 30 | 10 | budget |"), "x.md")}
    assert mismatches(bad, default, paper) == [
        "x.md: `methods.dm.lr`: the card's default cell says '10', the config has 100.0"
    ]
    bad = {"x.md": card_rows(CARD.replace("| real | — | default", "| real | real | default"), "x.md")}
    assert "the config has absent" in mismatches(bad, default, paper)[0]
    bad = {"x.md": card_rows(CARD.replace("| [] | [] |", "| [] | [r3d_18] |"), "x.md")}
    assert len(mismatches(bad, default, paper)) == 1
    with pytest.raises(AssertionError, match="must start with the header"):
        card_rows(CARD.replace("| why they differ |", "| why |"), "x.md")
    with pytest.raises(AssertionError, match="has 5 cells"):
        card_rows(CARD.replace("| budget |", ""), "x.md")
    assert card_rows("# no card here\n", "y.md") is None


def test_the_merge_is_snakemakes_deep_merge():
    """A key set only in config/config.yaml survives `--configfile config/paper.yaml` unless paper.yaml sets it."""
    default, paper = load_configs()
    assert paper["student"]["widths"] == [64, 128, 128] and default["student"]["widths"] == [16, 32]
    assert paper["evaluation"]["eval_every"] == default["evaluation"]["eval_every"]  # set only in config.yaml: it stays
    assert "eval_every" not in yaml.safe_load((REPO / "config/paper.yaml").read_text())["evaluation"]
