// The lecture card of a classroom page (a student's) and of its dashboard (an instructor's):
// a lecture started or ended while the page is open shows there, without a reload. The card
// ([data-lecture-poll]: the URL of the classroom's lecture now, GET) holds both states,
// [data-when="on"] and [data-when="off"]; every POLL_MS while the page is seen it asks
// which holds (docs/classrooms.md, "Lecture mode"). The title is the instructor's text: set
// as text.

const POLL_MS = 5000; // the server takes 36 a minute a person: three tabs of it
const MAX_WAIT_MS = 60000; // the server away or refusing: ask less and less often

function watchLecture(card) {
  let wait = POLL_MS;
  let timer = null;
  let asking = false;

  const show = (lecture) => {
    card.dataset.lecture = lecture?.id || "";
    for (const part of card.querySelectorAll("[data-when]")) part.hidden = (part.dataset.when === "on") !== !!lecture;
    if (!lecture) return;
    for (const link of card.querySelectorAll("[data-lecture-link]")) link.href = lecture.url;
    for (const title of card.querySelectorAll("[data-lecture-title]")) title.textContent = lecture.title || "an untitled design";
  };

  const ask = async () => {
    timer = null;
    if (asking || document.hidden) return; // asked again when the page is seen
    asking = true;
    try {
      const response = await fetch(card.dataset.lecturePoll, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (response.status === 404) return; // no longer theirs to know (a seat removed): stop asking
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const { lecture } = await response.json();
      if ((lecture?.id || "") !== card.dataset.lecture) show(lecture);
      wait = POLL_MS;
    } catch {
      wait = Math.min(wait * 2, MAX_WAIT_MS);
    } finally {
      asking = false;
    }
    timer = setTimeout(ask, wait);
  };

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !timer) ask();
  });
  timer = setTimeout(ask, wait);
}

const card = document.querySelector("[data-lecture-poll]");
if (card) watchLecture(card);
