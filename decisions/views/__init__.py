"""Views, one module per page family; each view parses input, calls one service or selector, renders."""
