"""Contrast as WCAG computes it, for colours read from the page (getComputedStyle's rgb()/rgba() strings)."""

from __future__ import annotations

import re

# The colour and the first opaque background behind an element (its own, or an ancestor's).
COLOUR_AND_BACKGROUND = """element => {
  let node = element, background = "rgb(255, 255, 255)";
  while (node && node.nodeType === 1) {
    const colour = getComputedStyle(node).backgroundColor;
    if (!colour.startsWith("rgba") || !colour.endsWith(", 0)")) { background = colour; break; }
    node = node.parentElement;
  }
  return [getComputedStyle(element).color, background];
}"""


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _luminance(rgb: str) -> float:
    channels = [int(float(value)) / 255 for value in re.findall(r"[\d.]+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
