// movierec web page: search, rate with stars, get fold-in recommendations, browse similar movies.
// Plain DOM code, no build step, no third-party scripts. Text from the API only ever goes into
// textContent (never innerHTML), so titles cannot inject markup.
"use strict";

const state = {
  ratings: new Map(), // movieId -> {movie, rating}
  scale: [0.5, 5.0],
  step: null, // the data's rating step (GET /health's ratingStep): star values lie on it
  likedFrom: null, // implicit models: the rating from which a movie counted as liked (GET /health)
  interactionsOnly: false, // data without ratings (GET /health): counts are of people's histories, not likes
  sequential: false, // a sequence model (GET /health; each list's answer says its own): what follows the last movie
  feedback: true, // whether the server stores ratings (GET /health); none: no POST /feedback at all
  visitor: null,
  served: null, // the model and version GET /health names (the header's): a list from another says so
};

const $ = (id) => document.getElementById(id);

// The status line is a notice over the bottom of the screen: at the page's end, under a long list, a phone never
// showed it, so a search or a press that failed (the server stopped) seemed to do nothing. A notice goes after
// STATUS_SECONDS; a failure (sticky) stays until the next one; one the page already shows where it happened (shown)
// is not put on the screen twice. The text stays in the element (role=status) either way, so assistive technology
// reads each notice once.
const STATUS_SECONDS = 6;
let statusTimer = null;

function status(text, how) {
  const box = $("status");
  clearTimeout(statusTimer);
  box.textContent = text;
  box.classList.toggle("error", Boolean(how && how.sticky));
  box.classList.toggle("gone", !text || Boolean(how && how.shown));
  if (text && !(how && how.sticky)) statusTimer = setTimeout(() => box.classList.add("gone"), STATUS_SECONDS * 1000);
}

function visitorId() {
  let id = null;
  try { id = localStorage.getItem("movierec.visitor"); } catch (e) { /* storage blocked */ }
  return id || newVisitorId();
}

// A fresh visitor id, kept for the next visit ("Start over" takes one for the next person).
function newVisitorId() {
  const id = "web-" + randomId();
  try { localStorage.setItem("movierec.visitor", id); } catch (e) { /* ignore */ }
  return id;
}

function randomId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const a = new Uint8Array(16);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

// A request that reaches no server (stopped, restarted, the network gone) rejects inside fetch with the
// browser's own words ("Failed to fetch" in Chromium, "NetworkError when attempting…" in Firefox); the page
// says what happened and what to do in one sentence instead.
const UNREACHABLE = "the server is not answering (is movierec serve still running?)";

async function api(path, options) {
  let resp;
  try {
    resp = await fetch(path, options);
  } catch (e) {
    const err = new Error(UNREACHABLE);
    err.status = 0;
    throw err;
  }
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  if (!resp.ok) {
    let msg = resp.status + " " + resp.statusText;
    if (body && typeof body.detail === "string") msg = body.detail;
    else if (body && Array.isArray(body.detail) && body.detail.length) msg = body.detail[0].msg;
    const err = new Error(msg);
    err.status = resp.status;
    throw err;
  }
  return body;
}

// A star value on the model's scale: 5 stars spread over [lo, hi] (1..5 on MovieLens).
// With a step (GET /health's ratingStep) the value is the nearest level of the data's grid, lo + k·step: the
// server refuses a rating between two levels (whole stars 1..10 made 3.25, sent as 3.5, which no user gave).
function starValue(n) {
  const [lo, hi] = state.scale;
  if (lo === 0.5 && hi === 5 && (state.step === null || state.step === 0.5)) return n;
  const v = lo + ((hi - lo) * (n - 1)) / 4;
  if (state.step === null) return Math.round(v * 2) / 2; // an artifact without a recorded step takes any value
  const level = lo + Math.round((v - lo) / state.step) * state.step;
  return Math.min(hi, Math.max(lo, Number(level.toFixed(6))));
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function movieLine(movie, withSimilar) {
  const wrap = el("div");
  const label = movie.title;
  if (withSimilar) {
    const b = el("button", "linkish title", label);
    b.type = "button";
    b.setAttribute("aria-label", "Show movies similar to " + movie.title);
    b.addEventListener("click", () => showSimilar(movie, b));
    wrap.appendChild(b);
  } else {
    wrap.appendChild(el("span", "title", label));
  }
  const bits = [];
  // MovieLens titles end with their year already: "Heat (1995)" needs no "1995 ·" under it
  if (movie.year && !String(movie.title).includes("(" + movie.year + ")")) bits.push(String(movie.year));
  if (movie.genres && movie.genres.length) bits.push(movie.genres.join(", "));
  wrap.appendChild(el("div", "meta", bits.join(" · ")));
  return wrap;
}

// A movie's stars are one radio group (the WAI-ARIA radio group pattern): Tab stops once per movie, on its
// checked star (the first when unrated), and goes on to the next movie; the arrow keys move along the stars and
// rate (Right/Down one more, Left/Up one fewer, no wrapping from 5 to 1), Home and End go to 1 and 5 stars; a
// click, Space or Enter rates with the star pressed. Six Tab stops per movie (title and five stars) made
// "Get recommendations" 103 Tabs away from the search; now each movie is two.
function starWidget(movie) {
  const group = el("div", "stars");
  group.setAttribute("role", "radiogroup");
  group.setAttribute("aria-label", "Your rating of " + movie.title);
  const current = state.ratings.has(String(movie.movieId)) ? state.ratings.get(String(movie.movieId)).stars : 0;
  for (let n = 1; n <= 5; n++) {
    const b = el("button", "star" + (n <= current ? " on" : ""), n <= current ? "★" : "☆");
    b.type = "button";
    b.dataset.stars = String(n);
    b.setAttribute("role", "radio");
    b.setAttribute("aria-label", n + (n === 1 ? " star" : " stars"));
    b.setAttribute("aria-checked", n === current ? "true" : "false");
    b.tabIndex = n === (current || 1) ? 0 : -1; // roving tabindex: one Tab stop per group
    b.addEventListener("click", (ev) => rate(movie, n, ev.currentTarget));
    group.appendChild(b);
  }
  group.addEventListener("keydown", (ev) => starKey(ev, movie));
  return group;
}

const STAR_KEYS = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

function starKey(ev, movie) {
  const from = Number(ev.target.dataset.stars);
  if (!from || ev.altKey || ev.ctrlKey || ev.metaKey) return;
  let to;
  if (ev.key === "Home") to = 1;
  else if (ev.key === "End") to = 5;
  else if (ev.key in STAR_KEYS) to = Math.min(5, Math.max(1, from + STAR_KEYS[ev.key]));
  else return;
  ev.preventDefault(); // the arrows would also scroll the page
  if (to === from && ev.target.getAttribute("aria-checked") === "true") return;
  rate(movie, to, ev.target, { settle: true });
}

// What a number means to a person: a rating model's predicted stars, else how many people rated it. A model
// that learned from liked movies counts only the ratings at or above its threshold ("liked by", not "rated by":
// Aliens' 85 under ease are its 4+ ratings of 126). On data without ratings (a log of who watched what) every
// row counts, and "liked by 12 people (rated 1+)" read oddly: it is "in 12 people's history".
// The list's own answer says which count it sent (ratingsCounted, likedFrom): served with several artifacts, a
// visitor's list can come from another model than GET /health's, and an svd header worded ease's likes
// "rated by". GET /health's words only for an answer without the field.
function plainScore(m, opts) {
  if (opts.rating && typeof m.predictedRating === "number") {
    // no-break spaces: "about 5.0 of 5" is one piece (a 320 px line ended "…about 5.0 of" and put the "5" alone)
    const stars = (Math.round(m.predictedRating * 2) / 2).toFixed(1);
    return "you would rate it about\u00a0" + stars + "\u00a0of\u00a0" + state.scale[1];
  }
  if (typeof m.ratings !== "number") return "";
  const counted = opts.counted || (state.interactionsOnly ? "interactions" : state.likedFrom === null ? "ratings" : "likes");
  const likedFrom = opts.counted ? opts.likedFrom : state.likedFrom;
  if (counted === "interactions") {
    return "in " + (m.ratings === 1 ? "1 person's" : m.ratings.toLocaleString() + " people's") + " history";
  }
  const people = m.ratings.toLocaleString() + (m.ratings === 1 ? " person" : " people");
  if (counted !== "likes") return "rated by " + people;
  return "liked by " + people + (typeof likedFrom === "number" ? " (rated " + likedFrom + "+)" : "");
}

// What a list's answer says of the model that made it, for plainScore and the reasons: what its counts are
// (ratingsCounted, likedFrom) and whether a reason is the last movie given (sequential). Served with several
// artifacts, a list can come from another model than GET /health's; a server without a field leaves it out,
// and GET /health's words stand for it.
function ownWords(data) {
  const words = {};
  if (typeof data.ratingsCounted === "string") Object.assign(words, { counted: data.ratingsCounted, likedFrom: data.likedFrom });
  if (typeof data.sequential === "boolean") words.sequential = data.sequential;
  return words;
}

function linksOut(m) {
  const wrap = el("span", "links");
  const add = (href, label, name) => {
    const a = el("a", null, label);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.setAttribute("aria-label", name + " page of " + m.title);
    wrap.appendChild(a);
  };
  if (m.imdbId) add("https://www.imdb.com/title/tt" + encodeURIComponent(m.imdbId) + "/", "IMDb", "IMDb");
  if (m.tmdbId) add("https://www.themoviedb.org/movie/" + encodeURIComponent(m.tmdbId), "TMDb", "TMDb");
  return wrap;
}

function renderList(listId, movies, opts) {
  const list = $(listId);
  list.replaceChildren();
  for (const m of movies) {
    const li = el("li", "movie");
    li.dataset.movieId = String(m.movieId);
    li.appendChild(movieLine(m, opts.similar));
    if (opts.score) {
      const info = el("div", "info");
      const text = plainScore(m, opts);
      if (text) info.appendChild(el("span", "plain", text));
      info.appendChild(linksOut(m));
      li.appendChild(info);
    }
    if (opts.because && m.because && m.because.length) {
      const names = m.because.map((b) => b.title);
      // a sequence model's reason is the last movie in the ratings, whatever its stars (a half star too): "liked"
      // was false for it, so the line says what the list follows. The list's own model says which (served after
      // ease, markov's list read "Because you liked" from ease's GET /health)
      const sequential = typeof opts.sequential === "boolean" ? opts.sequential : state.sequential;
      const text = sequential
        ? "After " + names.join(" and ") + ", the last of your ratings"
        : "Because you liked " + names.join(" and ");
      li.appendChild(el("div", "because", text));
    }
    if (opts.stars) li.appendChild(starWidget(m));
    list.appendChild(li);
  }
}

// A search waits for its answer with the last one's results on the screen. A misspelling's answer (titles spelled
// like it) takes seconds on ml-latest-small's 9,724 titles and the server answers the searches after it only then:
// at 360 x 740, "star wars" typed after "shawshank redemtion" sat for seconds over the most-rated movies, and a
// click on the first one's stars rated The Shawshank Redemption. Until its answer comes, the old results are
// shaded and take no click or focus (inert, aria-busy), and after a moment a line says what is being searched.
const SEARCHING_MS = 300;
let searchingTimer = null;

function searching(text) {
  clearTimeout(searchingTimer);
  const list = $("results");
  const busy = text !== null;
  list.inert = busy;
  list.classList.toggle("stale", busy);
  list.setAttribute("aria-busy", String(busy));
  $("searching").hidden = true;
  if (busy) {
    searchingTimer = setTimeout(() => {
      $("searching").textContent = "Searching for “" + text + "”…";
      $("searching").hidden = false;
    }, SEARCHING_MS);
  }
}

let lastResults = [];
let searchSeq = 0; // the newest search: an older answer arriving after it is dropped
async function search(text) {
  const seq = ++searchSeq;
  searching(text);
  try {
    const data = await api("/movies?limit=15&search=" + encodeURIComponent(text));
    // a misspelling's answer (titles spelled like it) takes longer than a plain one: typed on, "termin" answered
    // after "terminator" and put "No title matches “termin”" under the box that read "terminator"
    if (seq !== searchSeq) return;
    searching(null);
    lastResults = data.movies;
    renderList("results", lastResults, { stars: true, similar: true });
    const unrated = data.unrated || [];
    const missed = lastResults.length || unrated.length ? null : text; // Niagara's title matched: not "no match"
    didYouMean(data.didYouMean || [], missed);
    unratedNote(unrated);
    // "No title matches …" stayed on after the next search found movies
    status(missed ? "No title matches “" + text + "”." : "", { shown: true });
  } catch (e) {
    if (seq !== searchSeq) return;
    searching(null);
    // the last search's results would sit under the new query as if they were its answer
    lastResults = [];
    renderList("results", lastResults, { stars: true, similar: true });
    didYouMean([], null);
    unratedNote([]);
    status("Search failed: " + e.message, { sticky: true });
  }
}

// Under the search box, where the eyes are: "No title matches …" for a search that found nothing (it was only in
// the status line, off a phone's screen), then "Did you mean:" and titles spelled like it, one a line (in a sentence,
// "Terminator 2: Judgment Day (1991), Terminator…" wrapped on a phone with a comma and the "?" alone on their
// lines); a click searches for one.
function didYouMean(movies, missed) {
  const box = $("did-you-mean");
  box.replaceChildren();
  box.hidden = movies.length === 0 && !missed;
  const words = (missed ? "No title matches “" + missed + "”." : "") + (movies.length ? (missed ? " " : "") + "Did you mean:" : "");
  if (words) box.appendChild(el("p", null, words));
  if (!movies.length) return;
  const list = el("ul", "suggestions");
  for (const m of movies.slice(0, 3)) {
    const b = el("button", "linkish", m.title);
    b.type = "button";
    b.addEventListener("click", () => { $("search").value = m.title; search(m.title); });
    list.appendChild(el("li")).appendChild(b);
  }
  box.appendChild(list);
}

// Catalogue movies the search matched that nobody rated (GET /movies' unrated): the model learned nothing about
// them, so they have no stars to press; said under the search box, where "No title matches" would have been
// (Niagara (1953) on ml-latest-small answered that, with unrelated titles to pick from).
function unratedNote(movies) {
  const box = $("unrated");
  box.replaceChildren();
  box.hidden = movies.length === 0;
  if (!movies.length) return;
  if (movies.length === 1) {
    box.appendChild(el("p", null, movies[0].title + " is in the catalogue, but nobody has rated it, so it cannot be " +
      "rated here or recommended."));
    return;
  }
  box.appendChild(el("p", null, "In the catalogue, but nobody has rated them, so they cannot be rated here or recommended:"));
  const list = el("ul");
  for (const m of movies) list.appendChild(el("li", null, m.title));
  box.appendChild(list);
}

function renderRated() {
  const items = Array.from(state.ratings.values()).map((r) => r.movie);
  renderList("rated", items, { stars: true, similar: true });
  $("rated-empty").hidden = items.length > 0;
  $("recommend").disabled = items.length === 0 && $("about").hidden;
  markRated(); // a movie rated (or cleared) while a similar list is open says so there at once
  placeBar();
}

// The phone's action bar (style.css, html.acting): on once a movie is rated, or while Undo is offered; --bar is
// its height while it lies over the screen, 0 where it sits in the page (a wide screen, or nothing rated yet),
// so the status notice, the page's end and a star the keyboard scrolls to stay clear of it.
function placeBar() {
  const root = document.documentElement;
  root.classList.toggle("acting", state.ratings.size > 0 || !$("undo").hidden);
  const bar = $("actions");
  const over = getComputedStyle(bar).position === "fixed";
  root.style.setProperty("--bar", over ? bar.offsetHeight + "px" : "0px");
}

// A wide screen's action bar is sticky (style.css): over the bottom of the rated list while its own place in the
// page lies below the screen. Only then it has a top edge (.stuck): without one, the title cut off above the
// buttons looked like text running into them; in its place under the list, an edge would be a second line there.
// The bar is stuck exactly while the marker right under it (#actions-end) lies below the screen. The observer's
// area is the screen and everything above it (rootMargin): a jump from above the screen to below it (Home, End)
// crosses its one edge, where a marker leaving the screen alone by its top would say nothing.
function watchBarEdge() {
  if (!("IntersectionObserver" in window)) return;
  const seen = new IntersectionObserver(([mark]) => $("actions").classList.toggle("stuck", !mark.isIntersecting), {
    rootMargin: "100000px 0px 0px 0px",
  });
  seen.observe($("actions-end"));
}

// Rate a movie (stars 1..5). From the arrow keys (settle): each step rates, as the radio pattern wants, but the
// feedback store gets only where the visitor stops, not every star passed on the way.
async function rate(movie, stars, button, how) {
  const key = String(movie.movieId);
  const list = button ? button.closest("ul, ol") : null; // the list the star was pressed in
  state.ratings.set(key, { movie, stars, rating: starValue(stars) });
  saveRatings();
  renderRated();
  renderList("results", lastResults, { stars: true, similar: true });
  // both lists were rebuilt, the pressed star with them: focus the same star in its new row, so a keyboard user
  // goes on from where they were (focus fell back to the page's start: the next Tab began at the top)
  if (list) {
    const again = list.querySelector('li[data-movie-id="' + CSS.escape(key) + '"] .star[data-stars="' + stars + '"]');
    if (again) again.focus();
  }
  status("Rated " + movie.title + ": " + stars + " of 5 stars.", { shown: true }); // the stars show it
  feedbackSoon(movie, starValue(stars), how && how.settle);
}

const FEEDBACK_SETTLE_MS = 800;
const pendingFeedback = new Map(); // movieId -> {movie, rating, timer}: arrow-key ratings not yet sent

function feedbackSoon(movie, rating, settle) {
  const key = String(movie.movieId);
  const before = pendingFeedback.get(key);
  if (before) clearTimeout(before.timer);
  pendingFeedback.delete(key);
  if (!settle) {
    sendFeedback(movie, rating);
    return;
  }
  const timer = setTimeout(() => { pendingFeedback.delete(key); sendFeedback(movie, rating); }, FEEDBACK_SETTLE_MS);
  pendingFeedback.set(key, { movie, rating, timer });
}

// Send what is waiting now (before "Clear ratings", and when the page is left: keepalive outlives the page).
function flushFeedback() {
  for (const p of pendingFeedback.values()) {
    clearTimeout(p.timer);
    sendFeedback(p.movie, p.rating);
  }
  pendingFeedback.clear();
}

async function sendFeedback(movie, rating) {
  if (!state.feedback) return; // a server started with --db none answers every POST /feedback with 503
  try {
    await api("/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ userId: state.visitor, movieId: movie.movieId, rating, requestId: randomId() }),
      keepalive: true,
    });
  } catch (e) {
    // feedback is best effort: a server without a database (503) or with an API key (401) still recommends
  }
}

// "Start over" is for the next person at this browser (the page has no notion of a known user: whoever opens it is
// a visitor with a random id, kept in localStorage): their ratings, the details about them and the lists made
// from those go, and a new visitor id is taken, so the next ratings are not sent to the feedback store (nor
// shared out among served models) as the last person's. "Clear ratings" kept the id: two people's ratings were
// one visitor's. What it cleared is kept for UNDO_SECONDS (the timer waits while the pointer or the focus is on
// the notice): one click lost every rating. Undo puts it all back as it was, the ratings in their order (a movie
// rated again meanwhile keeps its new rating) and the id. The feedback store is not touched either way: nothing
// is deleted there and nothing is sent again on undo.
const UNDO_SECONDS = 15;
let undo = null; // {kept: [[movieId, rating entry], …], visitor, details, similar, recs, timer}
const DETAILS = ["f-age", "f-gender", "f-occupation", "f-zip"]; // "About you": the person's own details

function clearRatings() {
  if (!state.ratings.size && !DETAILS.some((id) => $(id).value.trim())) {
    status("No ratings to clear."); // and an undo still on offer stays: a second click must not lose it
    return;
  }
  flushFeedback(); // under the id they were given with
  const kept = Array.from(state.ratings.entries());
  state.ratings.clear();
  saveRatings();
  $("rated-gone").hidden = true; // it named ratings that are gone now too
  const visitor = state.visitor;
  state.visitor = newVisitorId();
  const details = DETAILS.map((id) => [id, $(id).value]);
  for (const id of DETAILS) $(id).value = "";
  const similar = !$("similar-panel").hidden;
  $("similar-panel").hidden = true;
  hideUndo();
  undo = { kept, visitor, details, similar, timer: null, recs: hideRecs() };
  const cleared = kept.length === 1 ? "1 rating" : kept.length + " ratings";
  $("undo-text").textContent = "Started over" + (kept.length ? ": " + cleared + " cleared" : "");
  $("undo").hidden = false;
  renderRated();
  renderList("results", lastResults, { stars: true, similar: true });
  armUndo();
  status($("undo-text").textContent + ". Undo is the next button, for " + UNDO_SECONDS + " seconds.", { shown: true });
}

// The list made from the ratings just cleared no longer answers anything on the page ("Because you liked" movies
// no longer rated): it goes with them, and Undo brings it back as it was. Returns what it hid, to put back.
function hideRecs() {
  const all = ["recs", "recs-note", "recs-about", "recs-from"];
  const parts = all.filter((id) => !$(id).hidden && $(id).textContent.trim());
  if (!parts.length) return [];
  for (const id of all) $(id).hidden = true;
  $("recs-empty").hidden = false;
  return parts;
}

function showRecs(parts) {
  if (!parts || !parts.length) return;
  for (const id of parts) $(id).hidden = false;
  $("recs-empty").hidden = true;
}

function armUndo() {
  const box = $("undo");
  if (!undo || box.contains(document.activeElement) || box.matches(":hover")) return; // still being read
  clearTimeout(undo.timer);
  undo.timer = setTimeout(hideUndo, UNDO_SECONDS * 1000);
}

function holdUndo() {
  if (undo) clearTimeout(undo.timer);
}

function hideUndo() {
  if (undo) clearTimeout(undo.timer);
  undo = null;
  $("undo").hidden = true;
  placeBar();
}

function undoClear() {
  if (!undo) return;
  const kept = undo.kept;
  showRecs(undo.recs);
  state.visitor = undo.visitor;
  try { localStorage.setItem("movierec.visitor", undo.visitor); } catch (e) { /* ignore */ }
  for (const [id, value] of undo.details) $(id).value = value;
  if (undo.similar) $("similar-panel").hidden = false;
  hideUndo();
  const since = state.ratings; // movies rated after the clear keep their new rating
  state.ratings = new Map(kept.filter(([key]) => !since.has(key)).concat(Array.from(since.entries())));
  saveRatings();
  renderRated();
  renderList("results", lastResults, { stars: true, similar: true });
  $("clear").focus(); // the Undo button is gone; the keyboard stays where it was
  status("Restored " + (kept.length === 1 ? "1 rating" : kept.length + " ratings") + ".");
}

// The visitor's own details (age, gender, occupation, zip) when the model accepts them, else null.
function visitorFeatures() {
  if ($("about").hidden) return null;
  const out = {};
  const age = $("f-age").value.trim();
  if (age) out.age = Number(age);
  for (const f of ["gender", "occupation", "zip"]) {
    const v = $("f-" + f).value.trim();
    if (v) out[f] = v;
  }
  return Object.keys(out).length ? out : null;
}

function setupFeatures(spec) {
  if (!spec) return;
  for (const f of ["gender", "occupation"]) {
    for (const v of spec[f] || []) {
      const opt = el("option", null, v);
      opt.value = v;
      $("f-" + f).appendChild(opt);
    }
  }
  $("about").hidden = false;
  $("recommend").disabled = false;
}

// The list for the ratings given (and the visitor's details). A rating is sent as its stars on the served data's
// scale now (starValue), not the value saved when it was given: saved on ml-latest-small's 0.5..5, 4 stars stayed
// 4 on a 1..10 scale served later (about 2 of 5 stars). ``again``: this is the one retry after catching up with
// a reloaded server.
async function recommend(again) {
  const ratings = Array.from(state.ratings.values())
    .map((r) => ({ movieId: r.movie.movieId, rating: starValue(r.stars) }));
  const features = visitorFeatures();
  if (!ratings.length && !features) {
    status("Rate a few movies or tell us about yourself first.");
    return;
  }
  status("Finding movies for you…");
  try {
    const body = { ratings, k: 12, userId: state.visitor, explain: ratings.length > 0 };
    if (features) body.features = features;
    const data = await api("/recommendations", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    // which model the list came from (and a catch-up with a reloaded server) before the list shows, so the list
    // and its line under the heading appear together and the list is drawn on the scale the server now serves
    await modelOfList(data);
    renderList("recs", data.recommendations, { similar: true, score: true, rating: true, because: true, ...ownWords(data) });
    $("recs").hidden = false; // hidden by "Clear ratings"
    $("recs-empty").hidden = true;
    const note = $("recs-note"), about = $("recs-about");
    note.hidden = !data.fallback;
    about.hidden = Boolean(data.fallback) || !data.becauseNote;
    // the fallback's own words say which movies are shown (an implicit model's are the most-liked, ratings ≥ 4,
    // not the most-rated): the note and the status no longer name them otherwise. Without a fallback, a line
    // under the list says once why some movies have no "Because you liked" (a rating model's becauseNote), or,
    // for a sequence model, that every reason is the last movie given whatever its stars (the server's one
    // sentence, which the CLI and recommend_for print too)
    note.textContent = data.fallback ? "Not from your ratings: " + data.fallback.replace(/^popularity: /, "") + "." : "";
    about.textContent = about.hidden ? "" : "About the reasons: " + data.becauseNote + ".";
    status(
      data.fallback
        ? data.recommendations.length + " popular movies (the fallback: " + data.model + " could not use these ratings)."
        : data.recommendations.length + " recommendations from " + data.model + " (version " + data.modelVersion + ").",
      { shown: true } // the list itself shows it; over the screen, the notice hid its first movie on a phone
    );
    // from a phone's bar, pressed anywhere on the page, "nearest" left the heading on the bar's edge and the
    // list under it: the list's top goes to the screen's top (the bar is gone where it sits in the page)
    const fromBar = getComputedStyle($("actions")).position === "fixed";
    $("recs-title").scrollIntoView({ block: fromBar ? "start" : "nearest" });
  } catch (e) {
    // a 4xx from a server reloaded onto another artifact while the page was open (its data may not hold a saved
    // movie, its scale may be another): the page catches up with GET /health, leaves out the movies the server
    // does not hold (said in the ratings panel) and asks once more. A 404 alone (the check as the page opened
    // failed) leaves them out too.
    if (again !== true && e.status >= 400 && e.status < 500) {
      const moved = await caughtUp();
      const gone = moved || e.status === 404 ? await setAsideUnknown() : [];
      if (moved || gone.length) return recommend(true);
    }
    status("Could not get recommendations: " + e.message, { sticky: true });
  }
}

// Served with several artifacts (--weights), a visitor's list comes from the model their id is shared out to, not
// always the one the header names (GET /health describes the first): the line under the heading says which.
// A list from another version may also mean the server was reloaded onto another artifact while the page was open
// (SIGHUP, POST /admin/reload): the line then said "this server compares models" of a server serving one, under a
// header naming the version and data it no longer serves. GET /health is asked again first, and the header follows.
// Whether GET /health now names another model or version than the page's header (the server was reloaded); if
// so the page reads it again. A failed request changes nothing.
async function caughtUp() {
  try {
    const h = await api("/health");
    if (!differs(h)) return false;
    readHealth(h);
    return true;
  } catch (e) {
    return false;
  }
}

const differs = (data) => state.served && (data.model !== state.served.model || data.modelVersion !== state.served.modelVersion);

async function modelOfList(data) {
  if (differs(data)) await caughtUp();
  const line = $("recs-from");
  const other = differs(data);
  line.hidden = !other;
  line.textContent = other
    ? "This list comes from " + data.model + " (version " + data.modelVersion + "): this server compares models, " +
      "and yours is not " + state.served.model + ", named at the top."
    : "";
}

// Where "Similar" was asked from, for the panel's way back: the list's id and the movie's (the row is looked up again
// on the way back: the search results and the ratings are rebuilt at each star). "Similar" inside the panel keeps
// the first: the way back leads out of the panel, to where it all began.
let similarFrom = null; // {list, movieId}
const BACK_TO = { recs: "your recommendations", rated: "your ratings", results: "the search results" };
// where the focus goes when the movie is no longer in its list (a new search, a new list of recommendations): the
// list's heading (not the search box, where a phone would open its keyboard)
const LIST_HOME = { recs: "recs-title", rated: "rated-title", results: "find-title" };

async function showSimilar(movie, button) {
  const list = button ? button.closest("ul, ol") : null;
  if (list && list.id in BACK_TO) similarFrom = { list: list.id, movieId: String(movie.movieId) };
  try {
    const data = await api("/movies/" + encodeURIComponent(movie.movieId) + "/similar?k=10");
    $("similar-title").textContent = "Similar to " + movie.title;
    // what the list means: lift (liked together more than chance) or the model's own similarity
    $("similar-how").textContent = data.similarBy === "lift"
      ? "Liked together with it more often than chance says."
      : "Close to it in the model's own terms.";
    renderList("similar", data.recommendations, { similar: true, score: true, stars: false, ...ownWords(data) });
    markRated();
    for (const id of ["similar-back", "similar-back-end"]) {
      $(id).hidden = !similarFrom;
      if (similarFrom) $(id + "-to").textContent = "Back to " + BACK_TO[similarFrom.list];
    }
    // a list resting on one or two people's likes says so (the API's note, movierec similar's words); an empty list
    // says so in the panel (only the status line said it, and the line below replaced it at once: a heading over
    // nothing)
    const none = data.recommendations.length ? "" : "No movie is similar enough to " + movie.title + ".";
    const note = [none, data.note || ""].filter(Boolean).join(" ");
    $("similar-note").textContent = note;
    $("similar-note").hidden = !note;
    $("similar-panel").hidden = false;
    // the panel's top, not "nearest": that put the heading on the screen's bottom edge and the list below it,
    // so a click seemed to do nothing; focus follows, so Tab goes on into the list. A heading already in the
    // screen's top third stays where it is (a wide screen's panel beside the search, or one clicked in again)
    const top = $("similar-title").getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight / 3) $("similar-title").scrollIntoView({ block: "start" });
    $("similar-title").focus({ preventScroll: true });
    status(none || "Movies similar to " + movie.title + ".", { shown: true }); // the panel says it
  } catch (e) {
    // a 404 is a movie the server does not hold: one still on the screen from before a reload onto other data
    // (the API's words named its movieId and "GET /movies?q=TITLE", which the page does not have)
    const gone = e.status === 404 ? movie.title + " is not in the data this server serves now; search for it again." : "";
    status("No similar movies: " + (gone || e.message), { sticky: true });
  }
}

// The panel's way back ("Back to your recommendations", Escape): after "Similar" the page scrolled to the panel
// and the movie it was asked from went out of view, with only scrolling to lead back. The panel closes, and that
// movie's title takes the focus, its row scrolled to the screen's middle unless the row lay wholly on the screen
// both before and after the panel closed (a wide screen's panel opens beside the lists: the eye never left it).
// Only its title was checked once: on a desktop, after scrolling down the panel, the page shrank as it closed and
// the browser held it at its new bottom, the title at the screen's edge (16 px from the top at 1024 x 768; at
// 1280 x 800 the twelfth recommendation's reasons cut off below), so the page stayed low. A movie gone from its
// list leaves the focus on the list's heading.
const RETURNED_MS = 1500;

function closeSimilar() {
  const list = similarFrom && $(similarFrom.list);
  const row = list && !list.hidden
    ? list.querySelector('li[data-movie-id="' + CSS.escape(similarFrom.movieId) + '"]') : null;
  const bar = parseFloat(getComputedStyle(document.documentElement).getPropertyValue("--bar")) || 0;
  const wholly = (box) => box.top >= 0 && box.bottom <= window.innerHeight - bar;
  const seen = row && wholly(row.getBoundingClientRect()); // on the screen while the panel was open
  $("similar-panel").hidden = true;
  if (!similarFrom) return;
  const target = (row && row.querySelector("button.title")) || $(LIST_HOME[similarFrom.list]);
  const shown = row || target;
  if (!(seen && wholly(shown.getBoundingClientRect()))) shown.scrollIntoView({ block: "center" });
  target.focus({ preventScroll: true });
  // after a tap or a click the focus has no ring: the movie's row is shaded for a moment, for the eye to find it
  if (row) {
    row.classList.add("returned");
    setTimeout(() => row.classList.remove("returned"), RETURNED_MS);
  }
}

// A movie of the similar list that the visitor rated on the page says so ("★ you rated it 4 of 5"): recommendations
// leave rated movies out, but a similar list keeps them (a movie the visitor knows tells what the list is about),
// and there one looked like any other, a movie to discover. The star is not read out: the words say it.
function markRated() {
  for (const li of $("similar").children) {
    const mine = state.ratings.get(li.dataset.movieId);
    let mark = li.querySelector(".yours");
    if (!mine) {
      if (mark) mark.remove();
      continue;
    }
    if (!mark) {
      mark = el("span", "yours");
      (li.querySelector(".info") || li).prepend(mark);
    }
    const star = el("span", "yours-star", "★");
    star.setAttribute("aria-hidden", "true");
    mark.replaceChildren(star, " you rated it " + mine.stars + " of 5");
  }
}

function saveRatings() {
  try {
    const plain = Array.from(state.ratings.values());
    localStorage.setItem("movierec.ratings", JSON.stringify(plain));
  } catch (e) { /* ignore */ }
}

// Saved ratings hold the movieIds of whatever was served at this address when they were given (localStorage
// belongs to the address, not to the artifact). Served on with other data, a movie may be missing: every press of
// "Get recommendations" failed with the API's words ("unknown movie id 3114 in tiny-movies (…); GET /movies?q=TITLE
// finds a movie's movieId"), and only "Start over" got out; or its id may name another movie (ml-100k's movie 2 is
// GoldenEye, ml-latest-small's Jumanji), which the list then used, silently, under the saved title. Each saved
// movie is looked up by its id; one the server does not hold under that title is left out of the ratings, and the
// panel names it. A lookup that fails otherwise (the server down) keeps the rating. Returns the movies left out.
async function setAsideUnknown() {
  const saved = Array.from(state.ratings.values());
  const held = await Promise.all(saved.map(async (r) => {
    try {
      const m = await api("/movies/" + encodeURIComponent(r.movie.movieId));
      return m.title === r.movie.title;
    } catch (e) {
      return !(e.status === 404 || e.status === 422);
    }
  }));
  const gone = saved.filter((r, i) => !held[i]).map((r) => r.movie);
  if (!gone.length) return gone;
  for (const m of gone) state.ratings.delete(String(m.movieId));
  saveRatings();
  renderRated();
  renderList("results", lastResults, { stars: true, similar: true });
  const names = gone.map((m) => m.title);
  const list = names.length === 1 ? names[0] : names.slice(0, -1).join(", ") + " and " + names[names.length - 1];
  $("rated-gone").textContent = "Left out of your ratings: " + list + ". " +
    (gone.length === 1 ? "It was" : "They were") + " rated when other movie data was served at this address, and this " +
    "server's data does not hold " + (gone.length === 1 ? "it" : "them") + ".";
  $("rated-gone").hidden = false;
  return gone;
}

function loadRatings() {
  try {
    const plain = JSON.parse(localStorage.getItem("movierec.ratings") || "[]");
    for (const r of plain) if (r && r.movie) state.ratings.set(String(r.movie.movieId), r);
  } catch (e) { /* ignore */ }
}

// Every tab of this address shares localStorage, but each tab kept the ratings it read when it opened and wrote the
// whole of them back on each rating: a movie rated in a second tab was gone once the first tab rated another. A
// change another tab saved (a rating, "Start over", its Undo) is taken here at once: its ratings and visitor id.
// A tab opened after a reload onto other data leaves out the movies that data lacks: this one then reads GET
// /health too, so its stars go on the scale served now (its next press no longer meets the 404 that told it).
function otherTab(ev) {
  if (ev.storageArea !== localStorage) return;
  if (ev.key === null || ev.key === "movierec.ratings") {
    state.ratings = new Map();
    loadRatings();
    renderRated();
    renderList("results", lastResults, { stars: true, similar: true });
    caughtUp();
  }
  if (ev.key === null || ev.key === "movierec.visitor") state.visitor = visitorId();
}

// The header's line about the model, one span per item: a line ends only between items, so a dataset or
// model name is never cut (as one run of text, 390 px wide cut "trained on ml-" from "latest-small").
function showModelInfo(items) {
  const info = $("model-info");
  info.textContent = "";
  items.forEach((text, i) => {
    const span = document.createElement("span");
    span.className = "info-item";
    span.textContent = text + (i < items.length - 1 ? " ·" : "");
    info.append(span, i < items.length - 1 ? " " : "");
  });
}

// What GET /health says of the served model: the header's line and what the page's words follow.
function readHealth(h) {
  state.scale = h.ratingScale;
  state.step = typeof h.ratingStep === "number" && h.ratingStep > 0 ? h.ratingStep : null;
  state.likedFrom = typeof h.likedFrom === "number" ? h.likedFrom : null;
  state.interactionsOnly = h.interactionsOnly === true;
  state.sequential = h.sequential === true;
  state.feedback = h.feedback !== false;
  state.served = { model: h.model, modelVersion: h.modelVersion };
  showModelInfo([h.model, "version " + h.modelVersion, "trained on " + h.dataset, h.nItems.toLocaleString() + " movies"]);
}

async function init() {
  state.visitor = visitorId();
  try {
    const h = await api("/health");
    readHealth(h);
    setupFeatures(h.userFeatures);
  } catch (e) {
    $("model-info").textContent = e.status === 0 ? "The server is not answering." : "The server answered: " + e.message;
  }
  loadRatings();
  renderRated();
  if (state.served) setAsideUnknown();
  let timer = null;
  $("search").addEventListener("input", (ev) => {
    clearTimeout(timer);
    const text = ev.target.value;
    timer = setTimeout(() => search(text), 200);
  });
  $("search").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { clearTimeout(timer); search(ev.target.value); }
  });
  $("recommend").addEventListener("click", () => recommend());
  $("clear").addEventListener("click", clearRatings);
  $("undo-button").addEventListener("click", undoClear);
  $("similar-back").addEventListener("click", closeSimilar);
  $("similar-back-end").addEventListener("click", closeSimilar);
  // Escape closes the panel with the focus in it, or on nothing: a click on the panel's text sends the focus to
  // the page, where Escape did nothing. Elsewhere Escape stays the control's own (the search box empties).
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape" || ev.altKey || ev.ctrlKey || ev.metaKey || $("similar-panel").hidden) return;
    const at = document.activeElement;
    if (at && at !== document.body && !$("similar-panel").contains(at)) return;
    ev.preventDefault();
    closeSimilar();
  });
  for (const [on, fn] of [["focusin", holdUndo], ["mouseenter", holdUndo], ["focusout", armUndo], ["mouseleave", armUndo]]) {
    $("undo").addEventListener(on, fn);
  }
  window.addEventListener("pagehide", flushFeedback);
  window.addEventListener("storage", otherTab);
  new ResizeObserver(placeBar).observe($("actions")); // its height: Undo's row, the width it wraps at
  window.addEventListener("resize", placeBar);
  watchBarEdge();
  // what was typed before the listeners above existed (the box takes text while /health is awaited): its input
  // events were lost, and an empty search here put the default list under "toy story"
  search($("search").value);
}

document.addEventListener("DOMContentLoaded", init);
