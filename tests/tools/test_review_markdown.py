"""The review's markdown as a pull request shows it: rendered by a CommonMark renderer, checked as HTML structure."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt
from tool_inputs import PIPELINE, PIPELINE_STACK, REVIEW_NOW, derive, edit_step, pipeline_properties

from tools.assembly import load_environments
from tools.review.diff import compare_outputs
from tools.review.render import render_markdown

TABLE = "IAM Statement Changes\n│ + │ s3:* │ Allow │"


class _Items(HTMLParser):
    """Every list item's own text (nested lists excluded) with its nesting depth, and the code blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[int, str]] = []
        self.blocks: list[str] = []
        self.tags: list[str] = []
        self._depth = 0
        self._open: list[int] = []
        self._pre = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        if tag == "ul":
            self._depth += 1
        elif tag == "li":
            self.items.append((self._depth, ""))
            self._open.append(len(self.items) - 1)
        elif tag == "pre":
            self._pre, _ = True, self.blocks.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul":
            self._depth -= 1
        elif tag == "li":
            self._open.pop()
        elif tag == "pre":
            self._pre = False

    def handle_data(self, data: str) -> None:
        if self._pre:
            self.blocks[-1] += data
        elif self._open and self.tags[-1] != "ul":
            depth, text = self.items[self._open[-1]]
            self.items[self._open[-1]] = (depth, text + data)


def _review_markdown(synth_dir: Path, tmp_path: Path) -> str:
    def edit(templates: dict) -> None:
        definition = pipeline_properties(templates)["Definition"]
        definition["StepOrder"].remove("Evaluate")
        del definition["Steps"]["Evaluate"]
        edit_step(templates, "Preprocess", lambda s: s.update(DisplayName="Split *all* the_data [v2]"))
        resources = templates[PIPELINE_STACK]["Resources"]
        policy = next(r for r in resources.values() if r["Metadata"]["aws:cdk:path"].endswith("/ExecutionRole/Policy/Resource"))
        policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] = "*"

    head = derive(synth_dir, tmp_path / "head.out", edit)
    review = compare_outputs(old=load_environments(outdir=synth_dir), new=load_environments(outdir=head), base="main", head="working tree", now=REVIEW_NOW)
    sandbox = dataclasses.replace(review.environments[1], cdk_tables={"sandbox/PipelineTrainEvaluateRegister": TABLE})
    return render_markdown(dataclasses.replace(review, environments=(review.environments[0], sandbox)))


def test_the_markdown_renders_one_list_item_per_line_with_marks_and_values_as_written(synth_dir: Path, tmp_path: Path) -> None:
    markdown = _review_markdown(synth_dir, tmp_path)
    html = MarkdownIt("commonmark").render(markdown)
    parsed = _Items()
    parsed.feed(html)
    items = [(depth, re.sub(r"\s+", " ", text).strip()) for depth, text in parsed.items]
    # Every item has text of its own: none is an empty item holding a nested list ("- + …" read as two bullets).
    assert all(text for _, text in items), items
    assert (1, f"~ pipeline {PIPELINE}") in items
    assert (2, "- step Evaluate (Processing) removed") in items
    assert (2, "~ step Preprocess (Processing)") in items
    assert (3, 'DisplayName: (absent) → "Split *all* the_data [v2]"') in items
    statement = next(text for depth, text in items if text.startswith("PolicyDocument: ~ statement OwnPrefixObjects"))
    assert statement.endswith(f"Resource + * - arn:${{AWS::Partition}}:s3:::smp-sandbox-artifacts-${{AWS::AccountId}}-${{AWS::Region}}/{PIPELINE}/*")
    # Values never turn into emphasis or links; the CDK table is one code block.
    assert "em" not in parsed.tags and "a" not in parsed.tags
    assert parsed.blocks == [TABLE + "\n"]
    assert "<h4>sandbox</h4>" in html and "<strong>⚠️ Security-relevant changes: yes</strong>" in html
