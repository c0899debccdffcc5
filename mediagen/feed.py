"""`mediagen feed SITE_DIR`: an RSS 2.0 podcast feed (iTunes and Podcasting 2.0 namespaces) with one
item per built issue found in SITE_DIR (each in its own folder, as `mediagen batch` lays them out)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from mediagen.config import Podcast
from mediagen.errors import InputError
from mediagen.files import atomic_path
from mediagen.report import Report, load_report

PODCASTING_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
FEED_NAME = "feed.xml"


@dataclass(frozen=True)
class BuiltEpisode:
    folder: Path
    report: Report

    @property
    def slug(self) -> str:
        return self.folder.name

    @property
    def published(self) -> dt.datetime:
        """The issue's date (front matter), else when its MP3 was made."""
        text = self.report.episode.date
        try:
            moment = dt.datetime.fromisoformat(text) if text else None
        except ValueError:
            moment = None
        if moment is None:
            moment = dt.datetime.fromtimestamp((self.folder / "episode.mp3").stat().st_mtime, dt.UTC)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def built_episodes(site: Path) -> list[BuiltEpisode]:
    """Every folder of SITE_DIR (or SITE_DIR itself) holding a finished build, newest first."""
    candidates = [site, *sorted(p for p in site.iterdir() if p.is_dir())] if site.is_dir() else []
    found = []
    for folder in candidates:
        report, mp3 = folder / "report.json", folder / "episode.mp3"
        if report.is_file() and mp3.is_file():
            found.append(BuiltEpisode(folder, load_report(folder)))
    return sorted(found, key=lambda e: (e.published, e.slug), reverse=True)


def write_feed(site: Path, podcast: Podcast) -> Path:
    """Write SITE_DIR/feed.xml; returns its path."""
    from feedgen.feed import FeedGenerator

    missing = [name for name in ("title", "base_url") if not getattr(podcast, name)]
    if missing:
        raise InputError(
            "feed: set " + " and ".join(f"'{n}'" for n in missing) + " in [podcast] of mediagen.toml"
        )
    if not site.is_dir():
        raise InputError(f"{site}: no such folder")
    episodes = built_episodes(site)
    if not episodes:
        raise InputError(f"{site}: no built episodes (folders with report.json and episode.mp3)")
    base = podcast.base_url if podcast.base_url.endswith("/") else podcast.base_url + "/"
    feed = FeedGenerator()
    feed.load_extension("podcast")
    feed.register_extension("podcasting", PodcastingExtension, PodcastingEntryExtension)
    _channel(feed, podcast, base)
    for episode in reversed(episodes):  # feedgen puts the last added first
        _item(feed.add_entry(), episode, base, site)
    path = site / FEED_NAME
    with atomic_path(path) as tmp:
        feed.rss_file(str(tmp), pretty=True)
    return path


def _channel(feed: Any, podcast: Podcast, base: str) -> None:
    feed.title(podcast.title)
    feed.link(href=base, rel="alternate")
    feed.description(podcast.description or podcast.title)
    feed.language(podcast.language or "en")
    if podcast.author:
        feed.author({"name": podcast.author, **({"email": podcast.email} if podcast.email else {})})
        feed.podcast.itunes_author(podcast.author)
        if podcast.email:
            feed.podcast.itunes_owner(name=podcast.author, email=podcast.email)
    if podcast.image:
        image = urljoin(base, podcast.image)
        feed.image(url=image, title=podcast.title, link=base)
        feed.podcast.itunes_image(image)
    if podcast.category:
        feed.podcast.itunes_category(podcast.category)
    feed.podcasting.guid(str(uuid.uuid5(uuid.NAMESPACE_URL, _without_scheme(base) + FEED_NAME)))
    feed.podcasting.explicit(podcast.explicit)


def _item(entry: Any, episode: BuiltEpisode, base: str, site: Path) -> None:
    relative = episode.folder.relative_to(site).as_posix()
    folder = base if relative == "." else base + quote(relative) + "/"
    report = episode.report
    guid = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, _without_scheme(folder))}"
    entry.guid(guid, permalink=False)
    entry.title(report.title or episode.slug)
    entry.description(report.episode.summary or report.title or episode.slug)
    entry.link(href=folder + "show-notes.html")
    entry.enclosure(
        folder + "episode.mp3", str((episode.folder / "episode.mp3").stat().st_size), "audio/mpeg"
    )
    entry.pubDate(episode.published)
    entry.podcast.itunes_duration(_duration(report.duration_s))
    if (episode.folder / "thumbnail.png").is_file():
        entry.podcast.itunes_image(folder + "thumbnail.png")
    if (episode.folder / "chapters.json").is_file():
        entry.podcasting.chapters(folder + "chapters.json")
    if (episode.folder / "episode.vtt").is_file():
        entry.podcasting.transcript(folder + "episode.vtt")


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _without_scheme(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc + parts.path


class PodcastingExtension:
    """Podcasting 2.0 channel tags (feedgen has none): `podcast:guid`; and `itunes:explicit` as Apple
    spells it today (true/false; feedgen only writes the older yes/no/clean)."""

    def __init__(self) -> None:
        self._guid: str | None = None
        self._explicit = False

    def guid(self, value: str) -> None:
        self._guid = value

    def explicit(self, value: bool) -> None:
        self._explicit = value

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCASTING_NS}

    def extend_rss(self, feed: Any) -> Any:
        from feedgen.util import xml_elem

        if self._guid:
            xml_elem(f"{{{PODCASTING_NS}}}guid", feed[0]).text = self._guid
        xml_elem(f"{{{ITUNES_NS}}}explicit", feed[0]).text = "true" if self._explicit else "false"
        return feed

    def extend_atom(self, feed: Any) -> Any:
        return feed


class PodcastingEntryExtension:
    """Podcasting 2.0 item tags: `podcast:chapters` and `podcast:transcript`."""

    def __init__(self) -> None:
        self._chapters: str | None = None
        self._transcript: str | None = None

    def chapters(self, url: str) -> None:
        self._chapters = url

    def transcript(self, url: str) -> None:
        self._transcript = url

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCASTING_NS}

    def extend_rss(self, entry: Any) -> Any:
        from feedgen.util import xml_elem

        if self._chapters:
            element = xml_elem(f"{{{PODCASTING_NS}}}chapters", entry)
            element.attrib.update({"url": self._chapters, "type": "application/json+chapters"})
        if self._transcript:
            element = xml_elem(f"{{{PODCASTING_NS}}}transcript", entry)
            element.attrib.update({"url": self._transcript, "type": "text/vtt"})
        return entry

    def extend_atom(self, entry: Any) -> Any:
        return entry
