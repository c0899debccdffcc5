// mediagen preview: the page. Reads the episode from api/episode, follows the studio's state through
// api/events (server-sent events), and sends edits to api/edit. Every URL is relative to the page's
// own, which carries the token.
"use strict";

const drafts = new Map(); // "section|line|n" or "section|slide|n" -> what the editor typed, unsaved
let shown = -1; // the version of the episode on the page
let loading = false;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "class") node.className = value;
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

function clock(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return `${m}:${String(s).padStart(2, "0")}`;
}

function showState(state) {
  const status = document.getElementById("status");
  let text = state.status;
  if (state.stage) text += ` · ${state.stage}` + (state.total ? ` ${state.done || 0}/${state.total}` : "");
  if (state.status === "ready" && state.seconds !== undefined) text += ` (${state.seconds} s)`;
  status.textContent = text;
  status.dataset.status = state.status;
  document.body.dataset.status = state.status;
  const error = document.getElementById("error");
  error.hidden = !state.error;
  error.textContent = state.error || "";
}

async function load() {
  if (loading) return;
  loading = true;
  try {
    const answer = await fetch("api/episode", { cache: "no-store" });
    const data = await answer.json();
    showState(data.state);
    if (data.view) draw(data.view, data.state.version);
  } finally {
    loading = false;
  }
}

function draw(view, version) {
  document.getElementById("title").textContent = view.title;
  document.documentElement.lang = view.lang;
  const downloads = document.getElementById("downloads");
  downloads.replaceChildren();
  for (const [name, url] of Object.entries(view.files || {})) {
    downloads.append(el("a", { href: url, textContent: name.replace("episode.", "").toUpperCase() }));
  }
  const check = view.speech_check || {};
  document.getElementById("check").textContent = check.skipped
    ? `Speech check: ${check.skipped}`
    : check.metric
      ? `Speech check (${check.metric}): ${(100 * check.overall).toFixed(1)} % overall` +
        (view.duration_s ? ` · ${clock(view.duration_s)} in all` : "")
      : "";
  const main = document.getElementById("sections");
  main.replaceChildren(...view.sections.map((section) => drawSection(view, section)));
  shown = version;
  document.body.dataset.version = String(version);
}

function drawSection(view, section) {
  const node = document.getElementById("section-template").content.firstElementChild.cloneNode(true);
  node.dataset.section = section.id;
  node.querySelector(".section-title").textContent = section.title;
  node.querySelector(".chapter").textContent =
    section.start_s !== null && section.start_s !== undefined ? `${clock(section.start_s)}–${clock(section.end_s)}` : "";
  const slides = node.querySelector(".slides");
  for (const slide of section.slides) {
    for (const picture of slide.pictures) {
      slides.append(el("img", { src: picture, alt: slide.title, class: "slide", loading: "eager" }));
    }
    slides.append(slideEditor(section, slide));
  }
  const player = node.querySelector(".player");
  const audio = (view.files || {})["episode.mp3"];
  if (audio && section.start_s !== null && section.start_s !== undefined) {
    player.src = `${audio}#t=${section.start_s},${section.end_s}`;
    player.addEventListener("timeupdate", () => follow(node, player, section));
  } else {
    player.hidden = true;
  }
  const lines = node.querySelector(".lines");
  for (const line of section.lines) lines.append(lineEditor(view, section, line));
  const save = el("button", { class: "save", textContent: "Save", type: "button", disabled: true });
  save.addEventListener("click", () => saveSection(node, section, save));
  node.querySelector(".script").append(save);
  refreshSave(node);
  return node;
}

function follow(node, player, section) {
  const t = player.currentTime;
  for (const item of node.querySelectorAll(".line")) {
    const start = Number(item.dataset.start);
    const end = Number(item.dataset.end);
    item.classList.toggle("speaking", item.dataset.start !== undefined && t >= start && t < end);
  }
  if (t >= section.end_s) player.pause();
}

function lineEditor(view, section, line) {
  const key = `${section.id}|line|${line.index}`;
  const item = el("li", { class: "line", dataset: { line: String(line.index) } });
  if (line.start_s !== undefined && line.start_s !== null) {
    item.dataset.start = line.start_s;
    item.dataset.end = line.end_s;
  }
  const draft = drafts.get(key) || {};
  let speaker = null;
  if (Object.keys(view.speakers).length > 1) {
    // A dialogue: who says the line can be changed too.
    speaker = el("select", { class: "speaker", title: "who says it" });
    if (!line.speaker) speaker.append(el("option", { value: "", textContent: "—" }));
    for (const [id, name] of Object.entries(view.speakers)) speaker.append(el("option", { value: id, textContent: name }));
    speaker.value = draft.speaker ?? line.speaker ?? "";
    speaker.dataset.saved = line.speaker || "";
    item.append(speaker);
  } else if (line.speaker) {
    item.append(el("span", { class: "who", textContent: view.speakers[line.speaker] || line.speaker }));
  }
  const voice = el("select", { class: "voice", title: "voice" });
  voice.append(el("option", { value: "", textContent: "voice: as cast" }));
  for (const name of view.voices) voice.append(el("option", { value: name, textContent: name }));
  voice.value = draft.voice ?? line.voice;
  voice.dataset.saved = line.voice;
  const value = draft.text ?? line.text;
  const text = el("textarea", { class: "text", rows: Math.max(1, Math.ceil(value.length / 64)), value });
  text.dataset.saved = line.text;
  for (const input of [voice, text, speaker].filter(Boolean)) {
    input.addEventListener("input", () => {
      drafts.set(key, { text: text.value, voice: voice.value, speaker: speaker ? speaker.value : undefined });
      refreshSave(item.closest(".section"));
    });
  }
  item.append(voice, text);
  if (line.score > 0) {
    const mark = line.flagged ? "⚑ " : "";
    item.append(el("div", { class: "heard", textContent: `${mark}heard: “${line.heard}” (${Math.round(100 * line.score)} %)` }));
  } else if (line.start_s === undefined) {
    item.append(el("div", { class: "pending", textContent: "not voiced yet" }));
  }
  return item;
}

function slideEditor(section, slide) {
  const key = `${section.id}|slide|${slide.index}`;
  const draft = drafts.get(key) || {};
  const box = el("div", { class: "slide-edit", dataset: { slide: String(slide.index) } });
  const title = el("input", { class: "slide-title", value: draft.title ?? slide.title });
  title.dataset.saved = slide.title;
  const bullets = el("textarea", { class: "slide-bullets", rows: Math.max(2, slide.bullets.length),
    value: draft.bullets ?? slide.bullets.join("\n") });
  bullets.dataset.saved = slide.bullets.join("\n");
  bullets.hidden = slide.layout !== "bullets" && slide.bullets.length === 0;
  for (const input of [title, bullets]) {
    input.addEventListener("input", () => {
      drafts.set(key, { title: title.value, bullets: bullets.value });
      refreshSave(box.closest(".section"));
    });
  }
  box.append(title, bullets);
  return box;
}

function changes(node) {
  const edits = { lines: [], slides: [] };
  const section = node.dataset.section;
  for (const item of node.querySelectorAll(".line")) {
    const text = item.querySelector(".text");
    const voice = item.querySelector(".voice");
    const speaker = item.querySelector(".speaker");
    const edit = { section, line: Number(item.dataset.line) };
    if (text.value.trim() !== text.dataset.saved) edit.text = text.value.trim();
    if (voice.value !== voice.dataset.saved) edit.voice = voice.value;
    if (speaker && speaker.value !== speaker.dataset.saved) edit.speaker = speaker.value;
    text.classList.toggle("changed", "text" in edit);
    if ("text" in edit || "voice" in edit || "speaker" in edit) edits.lines.push(edit);
  }
  for (const box of node.querySelectorAll(".slide-edit")) {
    const title = box.querySelector(".slide-title");
    const bullets = box.querySelector(".slide-bullets");
    const edit = { section, slide: Number(box.dataset.slide) };
    if (title.value.trim() !== title.dataset.saved) edit.title = title.value.trim();
    if (bullets.value !== bullets.dataset.saved) {
      edit.bullets = bullets.value.split("\n").map((b) => b.trim()).filter(Boolean);
    }
    if ("title" in edit || "bullets" in edit) edits.slides.push(edit);
  }
  return edits;
}

function refreshSave(node) {
  if (!node) return;
  const edits = changes(node);
  node.querySelector(".save").disabled = edits.lines.length + edits.slides.length === 0;
}

async function saveSection(node, section, button) {
  button.disabled = true;
  const answer = await fetch("api/edit", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(changes(node)),
  });
  const result = await answer.json();
  if (!answer.ok) {
    showState({ status: "error", error: result.error });
    button.disabled = false;
    return;
  }
  for (const key of [...drafts.keys()]) if (key.startsWith(`${section.id}|`)) drafts.delete(key);
}

function listen() {
  const events = new EventSource("api/events");
  events.onmessage = (message) => {
    const state = JSON.parse(message.data);
    showState(state);
    if (state.version !== shown) load();
  };
}

load().then(listen);
