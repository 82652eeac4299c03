// Cytoscape's stylesheet for the design canvas. Nodes are white cards with the kind's
// tile on the left; their text is painted by the overlay (decorations.js) so it can be
// left-aligned and carry live metrics. Links are arrows; replication links dashed.

import { NODE_W, NODE_H } from "./topology.js";

const COLORS = {
  ink: "#1d2433",
  muted: "#667085",
  border: "#d0d5dd",
  accent: "#4f46e5",
  edge: "#98a2b3",
  replication: "#7c3aed",
  danger: "#dc2626",
  warn: "#d97706",
  canvas: "#f6f7f9",
};

export const cyStyle = [
  {
    selector: "node",
    style: {
      shape: "round-rectangle",
      "corner-radius": 12,
      width: NODE_W,
      height: NODE_H,
      "background-color": "#ffffff",
      "border-width": 1.5,
      "border-color": COLORS.border,
      "background-image": "data(icon)",
      "background-width": 32,
      "background-height": 32,
      "background-position-x": "50%",
      "background-position-y": "9px",
      "background-clip": "none",
      "background-image-containment": "over",
      label: "",
      "overlay-opacity": 0,
      "underlay-opacity": 0,
      "transition-property": "border-color, background-color",
      "transition-duration": 150,
    },
  },
  { selector: "node:active", style: { "overlay-opacity": 0 } },
  {
    selector: "node.erroring",
    style: { "border-color": "#f97316", "border-width": 2 },
  },
  {
    selector: "node.watched", // a component the lesson is about
    style: { "outline-width": 3, "outline-color": "#7c3aed", "outline-opacity": 0.35, "outline-offset": 4 },
  },
  {
    selector: "node.bottleneck",
    style: {
      "underlay-color": "#f59e0b", "underlay-opacity": 0.28, "underlay-padding": 7,
      "underlay-shape": "round-rectangle", "underlay-corner-radius": 16,
    },
  },
  {
    selector: "node.down",
    style: {
      "background-color": "#f2f4f7", "border-color": COLORS.danger, "border-style": "dashed",
      "border-width": 2, "background-image-opacity": 0.45,
    },
  },
  {
    selector: "node.invalid",
    style: { "border-color": COLORS.danger, "border-width": 2.5 },
  },
  {
    selector: "node:selected",
    style: { "border-color": COLORS.accent, "border-width": 2.5 },
  },
  {
    // selected by someone else in a co-editing room (coedit.js): their colour around it
    selector: "node.peer-selected",
    style: { "underlay-color": "data(peerColour)", "underlay-opacity": 0.35, "underlay-padding": 8 },
  },
  {
    selector: "node.kbd-focus",
    style: {
      "outline-width": 3, "outline-color": COLORS.accent, "outline-opacity": 0.45,
      "outline-offset": 3,
    },
  },
  {
    selector: "node.connect-source",
    style: { "border-color": COLORS.accent, "border-width": 2.5, "border-style": "solid" },
  },
  {
    selector: "node.connect-target",
    style: {
      "border-color": "#059669", "border-width": 3,
      "underlay-color": "#10b981", "underlay-opacity": 0.18, "underlay-padding": 6,
    },
  },
  {
    selector: "node.connect-bad",
    style: { "border-color": COLORS.danger, "border-width": 3 },
  },
  {
    selector: "edge",
    style: {
      width: "data(width)",
      "curve-style": "straight",
      "line-color": COLORS.edge,
      "target-arrow-shape": "triangle",
      "target-arrow-color": COLORS.edge,
      "arrow-scale": 1.15,
      label: "data(label)",
      "font-family": "system-ui, sans-serif",
      "font-size": 11,
      "font-weight": 500,
      color: "#475467",
      "text-background-color": COLORS.canvas,
      "text-background-opacity": 0.92,
      "text-background-padding": 3,
      "text-background-shape": "round-rectangle",
      "overlay-opacity": 0,
      "overlay-padding": 6,
      "transition-property": "line-color",
      "transition-duration": 120,
    },
  },
  { selector: "edge:active", style: { "overlay-opacity": 0.06, "overlay-color": COLORS.accent } },
  {
    selector: "edge.replication",
    style: {
      "line-style": "dashed", "line-dash-pattern": [7, 5], "line-color": COLORS.replication,
      "target-arrow-color": COLORS.replication, "target-arrow-shape": "triangle-backcurve",
      color: "#6d28d9",
    },
  },
  {
    selector: "edge.busy", // a link with a bandwidth, 80% busy or more in a direction
    style: { "line-color": COLORS.warn, "target-arrow-color": COLORS.warn },
  },
  {
    selector: "edge.erroring",
    style: { "line-color": "#fb923c", "target-arrow-color": "#fb923c" },
  },
  {
    selector: "edge.invalid",
    style: { "line-color": COLORS.danger, "target-arrow-color": COLORS.danger },
  },
  {
    selector: "edge:selected",
    style: {
      "line-color": COLORS.accent, "target-arrow-color": COLORS.accent, color: COLORS.accent,
      "underlay-color": COLORS.accent, "underlay-opacity": 0.14, "underlay-padding": 5,
      "z-index": 10,
    },
  },
  {
    selector: "edge.cut",
    style: {
      "line-color": COLORS.danger, "target-arrow-color": COLORS.danger, "line-style": "dashed",
      "line-dash-pattern": [3, 5], color: COLORS.danger,
    },
  },
  {
    selector: "node.ghost",
    style: { width: 1, height: 1, opacity: 0, "background-image": "none", events: "no" },
  },
  {
    selector: "edge.ghost",
    style: {
      width: 2.5, "line-color": COLORS.accent, "target-arrow-color": COLORS.accent,
      "line-style": "dashed", "line-dash-pattern": [6, 4], label: "", events: "no",
    },
  },
];
