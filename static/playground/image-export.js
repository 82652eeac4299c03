// The design as a picture, drawn by the server's one renderer (playground/pages/preview.py, the
// share card's: POST /api/picture.svg answers the design at its own size): downloaded as
// SVG, rasterised here to PNG, or put in the page as an element (version previews).

import { api } from "./api.js";
import { download, slug } from "./persistence.js";

const PNG_SCALE = 2;
const PNG_MAX_SIDE = 8000; // pixels: browsers refuse bigger canvases

/** The server's SVG text parsed as XML (never as HTML: the server escapes every text). */
async function pictureOf(doc) {
  const text = await api.picture(doc);
  const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
  if (svg.localName !== "svg") throw new Error("the server's picture could not be read");
  return { text, svg };
}

/** The design as an <svg> element for the page. */
export async function diagramSvg(doc) {
  const { svg } = await pictureOf(doc);
  return document.importNode(svg, true);
}

export async function exportSvg(doc) {
  const { text } = await pictureOf(doc);
  download(new Blob([`<?xml version="1.0" encoding="UTF-8"?>\n${text}\n`], { type: "image/svg+xml" }),
           `${slug(doc.name)}.svg`);
}

/** Rasterise the SVG (a data: URL: the CSP allows data: images) at twice its size. */
export async function exportPng(doc) {
  const { text, svg } = await pictureOf(doc);
  const w = Number(svg.getAttribute("width")), hgt = Number(svg.getAttribute("height"));
  const scale = Math.min(PNG_SCALE, PNG_MAX_SIDE / Math.max(w, hgt));
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(w * scale);
  canvas.height = Math.round(hgt * scale);
  canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve, reject) => canvas.toBlob(
    (b) => (b ? resolve(b) : reject(new Error("the browser could not make the PNG"))), "image/png"));
  download(blob, `${slug(doc.name)}.png`);
}
