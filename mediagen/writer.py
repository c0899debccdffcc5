"""How an episode is written, settled once per build from the options and the config: the mode, the
writer (the author's own key sentences, or a model: the bundled one, a GGUF, a server), the show
around the content and the length. `Writer` holds what the script stage needs for it (prompts, show
templates, per-section budgets) and names each section's piece of work for the cache, so `build` and
`status` agree on what a section's script depends on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mediagen import incremental
from mediagen.config import Config
from mediagen.document import INTRO_ID, Document, Section, meta_value
from mediagen.engines.base import LLMEngine
from mediagen.engines.registry import Choice, choose
from mediagen.episode import EpisodeSection, Speaker
from mediagen.limits import Limits
from mediagen.stages import script
from mediagen.store import Work
from mediagen.templating import Templates, search_path
from mediagen.text import word_count
from mediagen.writing import extract, length, show

NO_MODEL = "none"
WRITTEN_MODES = ("summary", "dialogue")  # the modes whose script a writer composes (verbatim: the prose)


@dataclass(frozen=True)
class Host:
    id: str  # the speaker's key in episode.yaml
    name: str
    voice: str  # a voice of the episode's language (see mediagen.voices)


# A dialogue's hosts by default: one female and one male voice, clearly apart, with names for each
# language. English: Kokoro's jf_gongitsune fed English phonemes was heard best of its five packs by
# tiny.en (WER 2.5 % on 40 sentences of the samples and the corpus; piper's joe 8.1 % on the same),
# median pitch 226 Hz against joe's 92 Hz (see the README).
DEFAULT_HOSTS = {
    "en": (Host("mika", "Mika", "jf_gongitsune"), Host("ken", "Ken", "joe")),
    "ja": (Host("mika", "ミカ", "jf_alpha"), Host("ken", "ケン", "jm_kumo")),
}


@dataclass(frozen=True)
class WritingPlan:
    mode: str
    llm: Choice | None  # None: the author's own key sentences
    show: bool
    show_name: str
    host: str
    minutes: float | None
    hosts: tuple[Host, Host] | None = None  # a dialogue's


def llm_spec(choice: str | None, model: str | None, config: Config) -> Choice | None:
    """`--llm` (or `[llm] url` in the config): none, bundled, a GGUF file or a server's URL."""
    settings = config.llm
    choice = choice or settings.url or NO_MODEL
    if choice == NO_MODEL:
        return None
    if choice.startswith(("http://", "https://")):
        options = {
            "url": choice.rstrip("/"),
            "model": model or settings.model,
            "api_key_env": settings.api_key_env,
        }
        return choose("llm", "openai", **options, timeout=settings.timeout)
    return choose("llm", "llama", model=choice)


def writing_plan(
    mode: str,
    llm: str | None,
    llm_model: str | None,
    with_show: bool,
    minutes: float | None,
    config: Config,
    doc: Document,
    lang: str,
) -> WritingPlan:
    spec = llm_spec(llm, llm_model, config) if mode in WRITTEN_MODES else None
    name = config.show.name or config.podcast.title or meta_value(doc.meta, "newsletter", "series") or ""
    return WritingPlan(
        mode=mode,
        llm=spec,
        show=with_show and config.show.enabled,
        show_name=str(name),
        host=config.show.host or "",
        minutes=minutes or config.show.minutes,
        hosts=dialogue_hosts(config, lang) if mode == "dialogue" else None,
    )


def dialogue_hosts(config: Config, lang: str) -> tuple[Host, Host]:
    """The two hosts of [show] hosts in mediagen.toml, each filled in from the defaults."""
    hosts = list(DEFAULT_HOSTS[lang])
    for n, given in enumerate(config.show.hosts):
        voice = getattr(given, lang) or hosts[n].voice
        key = re.sub(r"[^a-z0-9]+", "-", given.name.lower()).strip("-") or f"host-{n + 1}"
        hosts[n] = Host(key, given.name, voice)
    if hosts[0].id == hosts[1].id:
        hosts[1] = Host(f"{hosts[1].id}-2", hosts[1].name, hosts[1].voice)
    return hosts[0], hosts[1]


def speakers(plan: WritingPlan) -> dict[str, Speaker]:
    return {host.id: Speaker(name=host.name, voice=host.voice) for host in plan.hosts or ()}


class Writer:
    """The script stage's tools for one build: prompts, the show, budgets, and the keys of its work."""

    def __init__(
        self,
        doc: Document,
        lang: str,
        plan: WritingPlan,
        templates: Path | None,
        limits: Limits,
        llm: Callable[[Choice], LLMEngine],
        llm_id: Callable[[Choice], str],
    ) -> None:
        self.doc, self.lang, self.plan = doc, lang, plan
        self.prompts = Templates(search_path(templates), limits=limits)
        self.units = script.script_units(doc)
        text = " ".join(script.section_text(u.section) for u in self.units if u.section)
        hosts = (plan.hosts[0].name, plan.hosts[1].name) if plan.hosts else None
        self.show = show.Show(
            self.prompts,
            lang,
            plan.show_name,
            plan.host,
            plan.show,
            names=show.proper_words(text),
            hosts=hosts,
        )
        self.llm_id = llm_id(plan.llm) if plan.llm else ""
        names = show.template_names(lang) + (
            script.prompt_names(lang, True) + script.prompt_names(lang, False)
        )
        self.fingerprint = self.prompts.fingerprint(names if plan.llm else show.template_names(lang))
        self.length = self._length()
        factory = (lambda: llm(plan.llm)) if plan.llm else None
        budgets = self.length.budgets if self.length else None
        self.scripter = script.Scripter(doc, lang, plan.mode, self.show, factory, self.prompts, budgets)

    def _length(self) -> length.Plan | None:
        if not self.plan.minutes or self.plan.mode not in WRITTEN_MODES:
            return None
        empty = Section(INTRO_ID, self.doc.title, [], [], "")
        materials = {u.id: extract.material(u.section or empty, self.lang) for u in self.units}
        titles = {u.id: (u.section or empty).title for u in self.units}

        def chosen(budgets: dict[str, float]) -> float:
            """The words the author's key sentences would say within these budgets."""
            return sum(
                word_count(text, self.lang)
                for sid, budget in budgets.items()
                for text in extract.key_sentences(
                    [u.text for u in materials[sid].sentences], titles[sid], self.lang, budget, False
                )
            )

        return length.fitted(length.plan(materials, self.lang, self.plan.minutes, self.plan.show), chosen)

    def work(self, unit: script.ScriptUnit) -> Work:
        budget = self.length.budgets.get(unit.id) if self.length else None
        return incremental.script_work(
            self.doc, unit, self.lang, self.plan.mode, self.fingerprint, self.llm_id, budget
        )

    def frame(self, sections: list[EpisodeSection], fresh: set[int]) -> list[EpisodeSection]:
        hosts = (self.plan.hosts[0].id, self.plan.hosts[1].id) if self.plan.hosts else None
        return show.frame(sections, self.show, self.doc.title, fresh, hosts)
